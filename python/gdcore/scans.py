"""Running products and extremes along a dimension, and differences: ``cumprod``, ``cummax``,
``cummin`` (values and indices, as torch.return_types) and ``diff``.

cumprod is a Hillis-Steele scan made of the core's differentiable ops: log2(n) steps, each multiplying
the running products by themselves shifted by 1, 2, 4, ... places. Every step is a plain product, so
its gradient (and second derivative) is exact even where the input has zeros, which the shortcut
exp(cumsum(log x)) would get wrong. cummax/cummin find their indices with the same scan on
(value, index) pairs without a graph, then gather the values from the input so that the gradient
goes to the element each running extreme came from, as torch's does.
"""
from __future__ import annotations

from collections import namedtuple

from . import _core
from ._core import Tensor
from .creation import arange, ones
from .grad_mode import no_grad
from .shape_ops import _int_arg, movedim, wrap_dim

__all__ = ["cumprod", "cummax", "cummin", "diff"]

cummax_result = namedtuple("cummax", ["values", "indices"])
cummin_result = namedtuple("cummin", ["values", "indices"])


def _require_tensor(value, op: str, name: str = "input") -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be a gdcore.Tensor, got {type(value).__name__}")


def _shift(y: Tensor, k: int, fill) -> Tensor:
    """y moved k places towards the end of its last dimension, the first k places filled with ``fill``
    (a tensor of shape (..., k))."""
    return _core.cat([fill, y[..., :-k]], -1)


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running products along ``dim``: out[i] = input[0] * ... * input[i]. Same shape; bool and integer
    inputs give int64, as in torch (unless ``dtype`` is given)."""
    _require_tensor(input, "cumprod")
    d = wrap_dim(dim, input.dim(), "cumprod")
    if dtype is not None:
        input = input.to(dtype)
    elif not input.is_floating_point():
        input = input.long()
    if input.dim() == 0:
        return input.clone()
    y = movedim(input, d, -1)
    n, k = y.shape[-1], 1
    lead = list(y.shape[:-1])
    while k < n:
        y = y * _shift(y, k, ones(*lead, k, dtype=y.dtype))
        k *= 2
    out = movedim(y, -1, d)
    return out if n > 1 else out.clone()


def _cum_extreme(input: Tensor, dim: int, is_max: bool, op: str):
    _require_tensor(input, op)
    if input.dtype == _core.dtype.bool:
        raise RuntimeError(f"{op}: bool tensors are not supported; convert with .long() first")
    d = wrap_dim(dim, input.dim(), op)
    if input.dim() == 0:
        return input.clone(), arange(1).reshape(())
    with no_grad():
        v = movedim(input, d, -1).detach()
        n = v.shape[-1]
        i = arange(n).expand(*v.shape)
        k = 1
        while k < n:
            # Combine each running (value, index) with the one k places earlier; the later wins ties
            # (torch's rule), and NaN beats everything.
            lv, li = v[..., :-k], i[..., :-k]
            rv, ri = v[..., k:], i[..., k:]
            better = (lv > rv) if is_max else (lv < rv)
            left = better | (lv.isnan() & ~rv.isnan())
            nv, ni = _core.where(left, lv, rv), _core.where(left, li, ri)
            v = _core.cat([v[..., :k], nv], -1)
            i = _core.cat([i[..., :k], ni], -1)
            k *= 2
        indices = movedim(i, -1, d).contiguous()
    values = _core.gather(input, d, indices)
    return values, indices


def cummax(input: Tensor, dim: int):
    """Running maximum along ``dim``: (values, indices), indices pointing at the element each value came
    from (the latest of equal ones; NaN propagates)."""
    return cummax_result(*_cum_extreme(input, dim, True, "cummax"))


def cummin(input: Tensor, dim: int):
    """Running minimum along ``dim``: (values, indices), as cummax."""
    return cummin_result(*_cum_extreme(input, dim, False, "cummin"))


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """The n-th forward difference along ``dim`` (out[i] = x[i+1] - x[i], n times), after joining
    ``prepend`` before and ``append`` after the input on that dimension; bool inputs use xor."""
    _require_tensor(input, "diff")
    n = _int_arg(n, "diff", "n")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = wrap_dim(dim, input.dim(), "diff")
    if n == 0:  # torch (and numpy) return the input, without prepend and append
        return input.clone()
    parts = []
    for name, extra in (("prepend", prepend), (None, input), ("append", append)):
        if extra is None:
            continue
        if name is not None:
            _require_tensor(extra, "diff", name)
            if extra.dim() != input.dim():
                raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        parts.append(extra)
    x = _core.cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        size = x.shape[d]
        if size == 0:
            break
        hi = x[(slice(None),) * d + (slice(1, size),)]
        lo = x[(slice(None),) * d + (slice(0, size - 1),)]
        x = (hi != lo) if x.dtype == _core.dtype.bool else hi - lo
    return x


def install_methods() -> None:
    from .shape_ops import as_method
    for fn in (cumprod, cummax, cummin, diff):
        if not hasattr(Tensor, fn.__name__):
            setattr(Tensor, fn.__name__, as_method(fn, fn.__name__))
    if not hasattr(Tensor, "cumprod_"):
        def cumprod_(self: Tensor, dim: int, *, dtype=None) -> Tensor:
            """In-place cumprod along ``dim``."""
            from .inplace_math import apply_inplace
            return apply_inplace(self, cumprod, "cumprod_", dim, dtype=dtype)
        Tensor.cumprod_ = as_method(cumprod_, "cumprod_")
