"""``gdcore.device`` and the device side of the API, as a CPU-only torch would have it.

gdcore runs on one device, the CPU. Code written for torch names devices everywhere
(``torch.device('cuda' if torch.cuda.is_available() else 'cpu')``, ``x.to(device)``,
``zeros(3, device=device)``), so the names exist and behave as torch's: a ``device``
object with ``.type`` and ``.index``, compared with other devices (not with strings, as
in torch: ``device('cpu') == 'cpu'`` is False there too), and a default device. Naming a
device only builds a description (``device('cuda')`` is allowed, as in torch); *using* any
device other than the CPU (moving a tensor there, creating a tensor or a layer on it, making
it the default) raises a RuntimeError that says gdcore runs on the CPU, never silently using
the CPU for a GPU request.
"""
from __future__ import annotations

from typing import Optional, Union

__all__ = ["device", "set_default_device", "get_default_device"]

# torch's device types (c10/core/DeviceType.h): accepted as names, refused when used.
_KNOWN_TYPES = ("cpu", "cuda", "mps", "xpu", "xla", "meta", "hip", "mtia", "hpu", "ipu", "lazy", "vulkan",
                "mkldnn", "opengl", "opencl", "ideep", "ve", "fpga", "maia", "privateuseone")


class device:  # noqa: N801  (torch spells it torch.device)
    """A device description: ``device('cpu')``, ``device('cpu:0')``, ``device('cpu', 0)``.

    ``.type`` is the kind ('cpu', 'cuda', ...) and ``.index`` the ordinal or None. Only 'cpu'
    can be used with gdcore; the other torch device names can be written down but raise a
    RuntimeError when a tensor or module is put on them.
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type: Union[str, "device", int], index: Optional[int] = None) -> None:  # noqa: A002
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): index must not be given together with a device object")
            self._type, self._index = type._type, type._index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            # torch reads a bare ordinal as a CUDA device; gdcore has none.
            raise RuntimeError(f"device({type}): a bare device index means a CUDA device in torch, and gdcore runs "
                               "on the CPU only; use device('cpu')")
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string such as 'cpu' or 'cpu:0' (or a device), got {type!r}")
        name, sep, ordinal = type.partition(":")
        if name not in _KNOWN_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_KNOWN_TYPES)} device type at start of device string: "
                               f"{type!r}")
        if sep:
            if index is not None:
                raise RuntimeError(f"device(): type (string) must not include an index because index was passed "
                                   f"explicitly: {type!r}")
            if not ordinal.isdigit():
                raise RuntimeError(f"Invalid device string: {type!r} (the index after ':' must be a non-negative "
                                   "integer, as in 'cpu:0')")
            index = int(ordinal)
        if index is not None:
            if isinstance(index, bool) or not hasattr(index, "__index__"):
                raise TypeError(f"device(): index must be an int, got {index!r}")
            index = index.__index__()
            if index < 0:
                raise RuntimeError(f"Device index must not be negative, got {index}")
        self._type, self._index = name, index

    @property
    def type(self) -> str:  # noqa: A003
        return self._type

    @property
    def index(self) -> Optional[int]:
        return self._index

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented  # as torch: device('cpu') == 'cpu' is False; compare .type instead
        return self._type == other._type and self._index == other._index

    def __ne__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return not self == other

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __reduce__(self):
        return device, (self._type, self._index)

    def __enter__(self):
        """``with gdcore.device('cpu'):`` (torch 2's default-device context); only the CPU can be entered."""
        _require_cpu(self, "with device(...)")
        return self

    def __exit__(self, *exc) -> None:
        return None


CPU = device("cpu")


def _require_cpu(dev: device, where: str) -> None:
    if dev._type != "cpu":
        raise RuntimeError(f"{where}: device {str(dev)!r} is not available: gdcore runs on the CPU only; use "
                           f"'cpu' (code written for torch usually picks its device with "
                           f"\"'cuda' if torch.cuda.is_available() else 'cpu'\", which gives 'cpu' here)")
    if dev._index not in (None, 0):
        raise RuntimeError(f"{where}: device {str(dev)!r} is not available: the CPU is device 'cpu' (or 'cpu:0'); "
                           "gdcore has one device")


def check_device(dev, where: str) -> device:
    """The device ``dev`` names (a device, a string or None for the default), which must be the CPU."""
    if dev is None:
        return CPU
    if not isinstance(dev, device):
        if not isinstance(dev, (str, int)) or isinstance(dev, bool):
            raise TypeError(f"{where}: device must be a gdcore.device or a string such as 'cpu', got {dev!r}")
        try:
            dev = device(dev)
        except RuntimeError as e:
            raise RuntimeError(f"{where}: {e}") from None
    _require_cpu(dev, where)
    return dev


def is_device_name(obj) -> bool:
    """True when ``obj`` is a device or a string naming one (such as 'cpu', 'cuda:0'); dtype names are not."""
    if isinstance(obj, device):
        return True
    return isinstance(obj, str) and obj.partition(":")[0] in _KNOWN_TYPES


def set_default_device(dev) -> None:
    """Sets the device new tensors are created on: only the CPU (or None, the CPU) is possible."""
    check_device(dev, "set_default_device")


def get_default_device() -> device:
    """The device new tensors are created on: always ``device(type='cpu')``."""
    return CPU
