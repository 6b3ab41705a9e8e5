"""Tensor attributes and methods torch code reads that need no C++: the device side of
``Tensor.to``, ``.device``, ``.cuda()``, ``.mT``, ``.nelement()``, ``.element_size()``.

``install()`` (called once by ``gdcore/__init__``) puts them on ``gdcore.Tensor``, so
``nn.Parameter`` and every other subclass has them too. ``Tensor.to`` keeps its C++ dtype
conversion (``_core.Tensor.to``); the Python layer in front of it reads torch's four call
forms, checks the device (only the CPU exists) and handles ``copy=`` and ``non_blocking=``.
"""
from __future__ import annotations

from . import _core
from ._core import Tensor
from .device import CPU, check_device, is_device_name

__all__ = ["install"]

_core_to = Tensor.to
_dtype_type = _core.dtype


def to(self, *args, **kwargs):
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)`` or
    ``to(dtype=..., device=..., non_blocking=False, copy=False)``, as torch.Tensor.to.

    Returns ``self`` when nothing changes (unless ``copy=True``), else a converted tensor that
    stays connected to the graph. The device must be the CPU; ``non_blocking`` changes nothing
    on the CPU.
    """
    if not kwargs and len(args) == 1 and type(args[0]) is _dtype_type:  # the common call, kept cheap
        return _core_to(self, args[0])
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    non_blocking = kwargs.pop("non_blocking", False)
    copy = kwargs.pop("copy", False)
    if kwargs.pop("memory_format", None) is not None:
        raise TypeError("to(): memory_format is not supported; gdcore tensors are strided (use .contiguous())")
    if kwargs:
        raise TypeError(f"to() got unexpected keyword argument(s) {sorted(kwargs)}; expected dtype, device, "
                        "non_blocking, copy")
    flags = []
    for arg in args:
        if isinstance(arg, bool):
            flags.append(arg)  # to(dtype, non_blocking, copy) positionally, as torch allows
        elif flags:
            raise TypeError(f"to(): got {arg!r} after non_blocking/copy; pass the device and dtype first")
        elif isinstance(arg, Tensor):
            dtype = arg.dtype  # to(other): other's dtype and device (the CPU)
        elif is_device_name(arg) or isinstance(arg, int):
            if dev is not None:
                raise TypeError(f"to(): got two devices, {dev!r} and {arg!r}")
            dev = arg
        elif dtype is None:
            dtype = arg
        else:
            raise TypeError(f"to(): got two dtypes, {dtype!r} and {arg!r}")
    if len(flags) > 2:
        raise TypeError(f"to(): at most two flags (non_blocking, copy) may follow the dtype, got {len(flags)}")
    if len(flags) == 2:
        copy = flags[1]
    if dev is not None:
        check_device(dev, "to()")
    out = self if dtype is None else _core_to(self, dtype)
    if copy and out is self:
        out = self.clone()
    return out


def cuda(self, device=None, non_blocking: bool = False):
    """Refused: gdcore runs on the CPU only (torch.Tensor.cuda would copy to a GPU)."""
    raise RuntimeError("cuda(): gdcore runs on the CPU only, there is no CUDA device; keep the tensor on the CPU "
                       "(pick the device with \"'cuda' if gdcore.cuda.is_available() else 'cpu'\")")


def _matrix_transpose(self) -> Tensor:
    if self.dim() < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self.dim()}-D "
                           "tensor.")
    return self.transpose(-2, -1)


def nelement(self) -> int:
    """The number of elements (``numel()``)."""
    return self.numel()


def element_size(self) -> int:
    """Bytes per element (4 for float32, 8 for float64 and int64)."""
    return self.dtype.itemsize


def get_device(self) -> int:
    """-1, torch's answer for a tensor on the CPU."""
    return -1


def install() -> None:
    Tensor.to = to
    Tensor.cuda = cuda
    Tensor.device = property(lambda self: CPU, doc="The device the tensor lives on: always device(type='cpu').")
    Tensor.is_cuda = property(lambda self: False, doc="False: gdcore tensors live on the CPU.")
    Tensor.is_cpu = property(lambda self: True, doc="True: gdcore tensors live on the CPU.")
    Tensor.mT = property(_matrix_transpose, doc="The last two dimensions swapped (a view), for matrices and batches.")
    Tensor.nelement = nelement
    Tensor.element_size = element_size
    Tensor.get_device = get_device
