"""Tensors made "like" another: torch's ``x.new_zeros(...)`` family (``new_zeros``, ``new_ones``,
``new_full``, ``new_empty``, ``new_tensor``: the size is given, the dtype and device are ``x``'s unless
passed) and the functions ``empty_like`` and ``randint_like`` (the size is ``x``'s too).

Model code uses them to make buffers that follow the input's dtype (``x.new_zeros(batch, hidden)``).
All of them go through gdcore.creation, which does the work in C++; ``new_empty`` and ``empty_like``
give zeros, since gdcore never hands out uninitialised memory.
"""
from __future__ import annotations

import warnings
from typing import Optional

from . import creation
from ._core import Tensor
from .device import check_device

__all__ = ["empty_like", "randint_like"]


def _dtype(self: Tensor, dtype):
    return self.dtype if dtype is None else dtype


def _device(device, where: str) -> None:
    # self is on the CPU (gdcore has no other device); a cuda/mps request raises there.
    check_device(device, where)


def new_zeros(self: Tensor, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``size`` with this tensor's dtype (unless ``dtype`` is given)."""
    _device(device, "new_zeros()")
    return creation.zeros(*size, dtype=_dtype(self, dtype), requires_grad=requires_grad)


def new_ones(self: Tensor, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Ones of ``size`` with this tensor's dtype (unless ``dtype`` is given)."""
    _device(device, "new_ones()")
    return creation.ones(*size, dtype=_dtype(self, dtype), requires_grad=requires_grad)


def new_empty(self: Tensor, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` with this tensor's dtype, filled with zeros (gdcore never hands out
    uninitialised memory)."""
    _device(device, "new_empty()")
    return creation.empty(*size, dtype=_dtype(self, dtype), requires_grad=requires_grad)


def new_full(self: Tensor, size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere in a tensor of ``size`` (a sequence) with this tensor's dtype."""
    _device(device, "new_full()")
    if isinstance(size, int):
        raise TypeError(f"new_full(): argument 'size' must be a tuple of ints, got int; write "
                        f"new_full(({size},), {fill_value!r})")
    return creation.full(size, fill_value, dtype=_dtype(self, dtype), requires_grad=requires_grad)


def new_tensor(self: Tensor, data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A copy of ``data`` (a list, number, numpy array or tensor) with this tensor's dtype unless
    ``dtype`` is given, not attached to any graph."""
    _device(device, "new_tensor()")
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than tensor.new_tensor("
                      "sourceTensor).", UserWarning, stacklevel=2)
        out = data.detach().to(_dtype(self, dtype)).clone()
        return out.requires_grad_(True) if requires_grad else out
    return creation.tensor(data, dtype=_dtype(self, dtype), requires_grad=requires_grad)


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    """A tensor shaped like ``input`` (zeros: gdcore never hands out uninitialised memory)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"empty_like(): argument 'input' must be a gdcore.Tensor, got {type(input).__name__}")
    return creation.zeros_like(input, dtype=dtype, requires_grad=requires_grad, device=device)


def randint_like(input: Tensor, low: int = 0, high: Optional[int] = None, *, dtype=None, device=None,
                 requires_grad: bool = False, generator=None) -> Tensor:
    """Uniform integers in [low, high) shaped like ``input``, with its dtype unless ``dtype`` is given;
    ``randint_like(x, high)`` means low = 0, as in torch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"randint_like(): argument 'input' must be a gdcore.Tensor, got {type(input).__name__}")
    if high is None:
        low, high = 0, low
    out = creation.randint(low, high, tuple(input.shape), generator=generator, dtype=_dtype(input, dtype),
                           device=device)
    return out.requires_grad_(True) if requires_grad else out


def install_methods() -> None:
    from .shape_ops import as_method
    for fn in (new_zeros, new_ones, new_empty, new_full, new_tensor):
        if not hasattr(Tensor, fn.__name__):
            setattr(Tensor, fn.__name__, as_method(fn, fn.__name__))
