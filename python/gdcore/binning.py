"""Binning with torch's names and arguments: searchsorted, bucketize, bincount, histc.

searchsorted is one C++ op (a binary search per value, cpp/src/ops/bucketize.cpp); bucketize is
searchsorted with the arguments the other way round; bincount is an index_add of ones (or of
the weights) and histc a bincount of the bin positions. None of them has a gradient.
"""
from __future__ import annotations

import numbers
from typing import Optional

from . import _core
from ._core import Tensor
from ._tensor_method import tensor_method

__all__ = ["searchsorted", "bucketize", "bincount", "histc", "install_methods"]


def _as_values(values, like: Tensor, op: str) -> Tensor:
    if isinstance(values, Tensor):
        return values
    if isinstance(values, bool) or not isinstance(values, numbers.Real):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor or a number, got {type(values).__name__}")
    from .creation import tensor
    return tensor(values, dtype=like.dtype if isinstance(values, numbers.Integral) or like.is_floating_point()
                  else _core.dtype.float64)


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False,
                 side: Optional[str] = None, sorter: Optional[Tensor] = None) -> Tensor:
    """Indices where ``input``'s values would be inserted into ``sorted_sequence``'s last dim to keep it
    sorted: the first such place, or the last one with ``right=True`` / ``side='right'``. The sequence is
    (n,) for any input shape, or (..., n) for input (..., m); ``sorter`` sorts an unsorted sequence
    (as from argsort). int64 (int32 with out_int32) of input's shape."""
    if not isinstance(sorted_sequence, Tensor):
        raise TypeError(f"searchsorted(): argument 'sorted_sequence' must be a Tensor, got "
                        f"{type(sorted_sequence).__name__}")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"searchsorted(): side can only be 'left' or 'right' but got {side!r}")
        if right and side == "left":
            raise RuntimeError("searchsorted(): side and right can't be set to opposites, got side of left while "
                               "right was True")
        right = side == "right"
    if sorter is not None:
        if not isinstance(sorter, Tensor) or sorter.dtype != _core.dtype.int64 or \
                tuple(sorter.shape) != tuple(sorted_sequence.shape):
            raise RuntimeError("searchsorted(): sorter must be an int64 tensor of the boundaries' shape "
                               f"{tuple(sorted_sequence.shape)} (as argsort returns)")
        sorted_sequence = _core.take_along_dim(sorted_sequence, sorter, -1)
    values = _as_values(input, sorted_sequence, "searchsorted")
    return _core._searchsorted(sorted_sequence.detach(), values.detach(), bool(right), bool(out_int32))


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each element of ``input`` between the sorted 1-d ``boundaries``: i with
    boundaries[i-1] < x <= boundaries[i] (right=False) or boundaries[i-1] <= x < boundaries[i] (right=True)."""
    if not isinstance(boundaries, Tensor):
        raise TypeError(f"bucketize(): argument 'boundaries' must be a Tensor, got {type(boundaries).__name__}")
    if boundaries.dim() != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got dim({boundaries.dim()})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def bincount(input: Tensor, weights: Optional[Tensor] = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ... occurs in the 1-d non-negative integer ``input`` (the sum of
    ``weights`` at those places when given); length max(input.max() + 1, minlength). int64 counts;
    with weights, float32 weights give float32 and any other dtype float64, as torch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bincount(): argument 'input' must be a Tensor, got {type(input).__name__}")
    if input.is_floating_point() or input.dtype == _core.dtype.bool:
        raise RuntimeError(f"bincount(): only supports 1-d non-negative integral inputs, got dtype {input.dtype}")
    if input.dim() != 1 or (input.numel() and input.min().item() < 0):
        raise RuntimeError("bincount(): only supports 1-d non-negative integral inputs, got "
                           f"shape {tuple(input.shape)}" + (f" with minimum {input.min().item()}" if input.numel() else ""))
    if isinstance(minlength, bool) or not isinstance(minlength, numbers.Integral) or minlength < 0:
        raise RuntimeError(f"bincount(): minlength should be a non-negative int, got {minlength!r}")
    from .creation import ones_like, zeros
    length = max(int(input.max().item()) + 1 if input.numel() else 0, int(minlength))
    index = input.long()
    if weights is None:
        return _core.index_add(zeros(length, dtype=_core.dtype.int64), 0, index, ones_like(index))
    if not isinstance(weights, Tensor) or tuple(weights.shape) != tuple(input.shape):
        raise RuntimeError(f"bincount(): weights should be 1-d and have the same length as input "
                           f"({input.numel()}), got {tuple(weights.shape) if isinstance(weights, Tensor) else weights!r}")
    dtype = weights.dtype if weights.dtype == _core.dtype.float32 else _core.dtype.float64
    return _core.index_add(zeros(length, dtype=dtype), 0, index, weights.detach().to(dtype))


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """A histogram of ``input`` with ``bins`` equal-width bins over [min, max] (the data's range
    when min == max, as with the defaults); elements outside the range (and NaN) are not counted,
    the last bin includes max. Float input; a 1-d result of input's dtype."""
    if not isinstance(input, Tensor):
        raise TypeError(f"histc(): argument 'input' must be a Tensor, got {type(input).__name__}")
    if not input.is_floating_point():
        raise RuntimeError(f"histc(): not implemented for {input.dtype} tensors; convert with .float()")
    if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or bins <= 0:
        raise RuntimeError(f"histc(): bins must be > 0, but got {bins}")
    lo, hi = float(min), float(max)
    x = input.detach().reshape(-1)
    if lo > hi:
        raise RuntimeError(f"histc(): max must be larger than min, got min={min} and max={max}")
    if lo == hi and x.numel():
        finite = _core.masked_select(x, _core.isfinite(x))
        if finite.numel():
            lo, hi = finite.min().item(), finite.max().item()
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    inside = _core.logical_and(x >= lo, x <= hi)
    kept = _core.masked_select(x, inside).double()
    pos = _core.clamp(_core.floor((kept - lo) * (bins / (hi - lo))), 0, bins - 1).long()
    return bincount(pos, minlength=int(bins)).to(input.dtype)


def install_methods() -> None:
    """Tensor.bincount and Tensor.histc, as in torch."""
    def bincount_method(self, weights=None, minlength=0):
        return bincount(self, weights, minlength)

    def histc_method(self, bins=100, min=0, max=0):  # noqa: A002
        return histc(self, bins, min, max)
    for name, fn in (("bincount", bincount_method), ("histc", histc_method)):
        if not hasattr(Tensor, name):
            setattr(Tensor, name, tensor_method(name, fn, doc=globals()[name].__doc__))
