"""Order statistics and NaN-aware reductions with torch's names: ``amax``/``amin`` as functions,
``aminmax``, ``median`` (the lower median; with ``dim``, values and indices), ``quantile`` and
``nanquantile`` (torch's five interpolation rules), ``nan_to_num``, ``nansum``, ``nanmean``.

The positions come from the core's sort (NaN sorts last) without a graph; the values are then
gathered from the input, so the gradient reaches exactly the elements a statistic was read from (for
an interpolated quantile, the two neighbours with weights 1 - w and w), as torch's does.
"""
from __future__ import annotations

import numbers
from collections import namedtuple
from typing import Optional

import numpy as np

from . import _core
from ._core import Tensor
from .creation import arange, ones
from .creation import tensor as _tensor
from .grad_mode import no_grad
from .mathops import _check_dim
from .shape_ops import movedim, wrap_dim

__all__ = ["amax", "amin", "aminmax", "median", "nanmedian", "mode", "quantile", "nanquantile", "nan_to_num", "nansum",
           "nanmean"]

aminmax_result = namedtuple("aminmax", ["min", "max"])
median_result = namedtuple("median", ["values", "indices"])
nanmedian_result = namedtuple("nanmedian", ["values", "indices"])
mode_result = namedtuple("mode", ["values", "indices"])

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _require_tensor(value, op: str, name: str = "input") -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be a gdcore.Tensor, got {type(value).__name__}")


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """The largest values over ``dim`` (an int or a tuple; all dimensions by default). The gradient is
    shared evenly between equal maxima, as torch's."""
    _require_tensor(input, "amax")
    _check_dim(dim, "amax")
    return input.amax(None if dim == () else dim, keepdim)


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """The smallest values over ``dim`` (an int or a tuple; all dimensions by default)."""
    _require_tensor(input, "amin")
    _check_dim(dim, "amin")
    return input.amin(None if dim == () else dim, keepdim)


def aminmax(input: Tensor, *args, dim: Optional[int] = None, keepdim: bool = False):
    """(min, max) over all elements or over ``dim``, as the named tuple torch.return_types.aminmax."""
    _require_tensor(input, "aminmax")
    if args:
        raise TypeError("aminmax(): dim (an int) and keepdim (a bool) are keyword-only arguments, as in torch: "
                        "write aminmax(x, dim=1)")
    _check_dim(dim, "aminmax")
    if dim is not None:
        d = wrap_dim(dim, input.dim(), "aminmax")
        if input.dim() and input.shape[d] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {d} to have non-zero size.")
    elif input.numel() == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    return aminmax_result(input.amin(dim, keepdim), input.amax(dim, keepdim))


def _median(input: Tensor, dim, keepdim: bool, op: str, skip_nan: bool):
    _require_tensor(input, op)
    if dim is None:
        flat = input.reshape(-1)
        if flat.numel() == 0:
            if not input.is_floating_point():
                raise RuntimeError(f"{op}() input tensor cannot be empty")
            return _tensor(float("nan"), dtype=input.dtype)
        return _median(flat, 0, False, op, skip_nan)[0]
    d = wrap_dim(dim, input.dim(), op)
    if input.dim() == 0:
        return input.clone(), _tensor(0)
    n = input.shape[d]
    if n == 0:
        raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")
    with no_grad():
        order = _core.argsort(input.detach(), d, stable=True)
        nans = input.detach().isnan().long().sum(d, True) if input.is_floating_point() else None
        if nans is None:
            k = _tensor((n - 1) // 2).expand(*order.shape[:d], 1, *order.shape[d + 1:])
        elif skip_nan:  # the lower median of the non-NaN values; an all-NaN row gives its first NaN
            valid = n - nans
            k = _core.where(valid > 0, ((valid - 1).double() / 2).floor().long(), 0)
        else:  # a NaN anywhere makes the median NaN, at the first NaN (NaN sorts last, stably)
            k = _core.where(nans > 0, n - nans, (n - 1) // 2)
        indices = _core.gather(order, d, k.contiguous())
    values = _core.gather(input, d, indices)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return values, indices


def median(input: Tensor, dim: Optional[int] = None, keepdim: bool = False):
    """The lower median (of an even count, the smaller middle value; NaN if any value is NaN). Without
    ``dim`` a 0-d tensor; with ``dim`` the named tuple (values, indices)."""
    out = _median(input, dim, keepdim, "median", False)
    return out if dim is None else median_result(*out)


def nanmedian(input: Tensor, dim: Optional[int] = None, keepdim: bool = False):
    """median ignoring NaN values (NaN only where every value is NaN)."""
    out = _median(input, dim, keepdim, "nanmedian", True)
    return out if dim is None else nanmedian_result(*out)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and the index of
    its last occurrence, as the named tuple (values, indices)."""
    from .scans import cummax, cummin
    _require_tensor(input, "mode")
    if input.dim() == 0:
        return mode_result(input.clone(), _tensor(0))
    d = wrap_dim(dim, input.dim(), "mode")
    n = input.shape[d]
    if n == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    x = movedim(input, d, -1)
    with no_grad():
        order = _core.argsort(x.detach(), -1, stable=True)
        s = _core.gather(x.detach(), -1, order)
        # Runs of equal values in sorted order: each position learns where its run starts and ends.
        change = s[..., 1:] != s[..., :-1]
        edge = ones(*s.shape[:-1], 1, dtype=_core.dtype.bool)
        starts = _core.cat([edge, change], -1)
        ends = _core.cat([change, edge], -1)
        pos = arange(n).expand(*s.shape)
        start = cummax(_core.where(starts, pos, 0), -1).values
        end = cummin(_core.where(ends, pos, n).flip(-1), -1).values.flip(-1)
        best = (end - start).argmax(-1, True)  # the first longest run: the smallest value
        indices = _core.gather(order, -1, _core.gather(end, -1, best))  # stable sort: its last occurrence
    values = _core.gather(x, -1, indices)
    if keepdim:
        return mode_result(movedim(values, -1, d), movedim(indices, -1, d))
    return mode_result(values.squeeze(-1), indices.squeeze(-1))


def _quantile(input: Tensor, q, dim, keepdim: bool, interpolation: str, op: str, skip_nan: bool) -> Tensor:
    _require_tensor(input, op)
    if not input.is_floating_point():
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{op}() interpolation must be one of linear, lower, higher, midpoint or nearest. "
                         f"Got {interpolation}")
    scalar_q = isinstance(q, numbers.Real) and not isinstance(q, bool)
    if scalar_q:
        qs = _tensor([float(q)], dtype=input.dtype)
    elif isinstance(q, Tensor):
        if q.dim() > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor")
        if q.dtype != input.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor")
        qs = q.detach().reshape(-1)
    else:
        raise TypeError(f"{op}(): argument 'q' must be a float or a gdcore.Tensor, got {type(q).__name__}")
    if qs.numel() and bool(((qs < 0) | (qs > 1)).any()):
        bad = next(v for v in qs.tolist() if not 0 <= v <= 1)
        raise RuntimeError(f"{op}() q must be in the range [0, 1] but got {bad:g}")
    if input.numel() == 0:
        raise IndexError(f"{op}() input tensor must be non-empty")
    ndim = input.dim()
    if dim is None:
        x, out_shape = input.reshape(-1), [1] * ndim if keepdim else []
    else:
        d = wrap_dim(dim, ndim, op)
        x = movedim(input, d, -1) if ndim else input.reshape(1)
        out_shape = list(input.shape)
        if ndim:
            if keepdim:
                out_shape[d] = 1
            else:
                del out_shape[d]
    n = x.shape[-1]
    with no_grad():
        order = _core.argsort(x.detach(), -1, stable=True)
        nans = x.detach().isnan().sum(-1, True).to(input.dtype)
        valid = (n - nans) if skip_nan else nans * 0 + n
        # rank of each quantile in each row: (Q, ..., 1); a row with no usable value reads its last (NaN) entry.
        qcol = qs.reshape(-1, *([1] * x.dim()))
        rank = qcol * (valid - 1)
        if interpolation == "lower":
            rank = rank.floor()
        elif interpolation == "higher":
            rank = rank.ceil()
        elif interpolation == "nearest":
            rank = rank.round()
        unusable = (valid == 0) if skip_nan else (nans > 0)
        rank = _core.where(unusable, float(n - 1), rank)
        below = rank.floor().long()
        above = rank.ceil().long()
        weight = None  # lower, higher, nearest: the rank is whole already
        if interpolation == "linear":
            weight = rank - below.to(input.dtype)
        elif interpolation == "midpoint":
            weight = _core.where(above > below, 0.5, 0.0).to(input.dtype)
        lead = [qs.numel()] + list(x.shape[:-1])
        order_q = order.expand(*lead, n)
        idx_below = _core.gather(order_q, -1, below.expand(*lead, 1).contiguous())
        idx_above = _core.gather(order_q, -1, above.expand(*lead, 1).contiguous())
    xq = x.expand(*lead, n)
    v_below = _core.gather(xq, -1, idx_below)
    if weight is None:
        out = v_below
    else:
        v_above = _core.gather(xq, -1, idx_above)
        out = v_below + weight * (v_above - v_below)
    out = out.reshape(qs.numel(), *out_shape)
    return out[0] if scalar_q else out


def quantile(input: Tensor, q, dim: Optional[int] = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The q-th quantiles (q a float or a 1-d tensor in [0, 1]) of all elements or along ``dim``;
    a tensor q adds a leading dimension. NaN where a value is NaN."""
    return _quantile(input, q, dim, keepdim, interpolation, "quantile", False)


def nanquantile(input: Tensor, q, dim: Optional[int] = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """quantile ignoring NaN values (NaN only where all are NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, "nanquantile", True)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: Optional[float] = None,
               neginf: Optional[float] = None) -> Tensor:
    """NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (by default the dtype's
    largest and smallest finite values). The gradient is 1 where the input is finite, else 0."""
    _require_tensor(input, "nan_to_num")
    if not input.is_floating_point():
        return input.clone()
    info = np.finfo(np.float32 if input.dtype == _core.dtype.float32 else np.float64)
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    out = _core.where(input.isnan(), float(nan), input)
    out = _core.where(input == float("inf"), float(posinf), out)
    return _core.where(input == float("-inf"), float(neginf), out)


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The sum treating NaN as zero, over all elements or ``dim`` (an int or a tuple)."""
    _require_tensor(input, "nansum")
    _check_dim(dim, "nansum")
    if dtype is not None:
        input = input.to(dtype)
    if input.is_floating_point():
        input = _core.where(input.isnan(), 0.0, input)
    return input.sum(dim, keepdim)


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The mean of the non-NaN values, over all elements or ``dim`` (NaN where there are none)."""
    _require_tensor(input, "nanmean")
    _check_dim(dim, "nanmean")
    if dtype is not None:
        input = input.to(dtype)
    if not input.is_floating_point():
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{input.dtype}")
    count = (~input.isnan()).sum(dim, keepdim).to(input.dtype)
    return nansum(input, dim, keepdim) / count


def install_methods() -> None:
    from .shape_ops import as_method
    for fn in (aminmax, median, nanmedian, mode, quantile, nanquantile, nan_to_num, nansum, nanmean):
        if not hasattr(Tensor, fn.__name__):
            setattr(Tensor, fn.__name__, as_method(fn, fn.__name__))
    if not hasattr(Tensor, "nan_to_num_"):
        def nan_to_num_(self: Tensor, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:
            """In-place nan_to_num."""
            from .inplace_math import apply_inplace
            return apply_inplace(self, nan_to_num, "nan_to_num_", nan, posinf, neginf)
        Tensor.nan_to_num_ = as_method(nan_to_num_, "nan_to_num_")
