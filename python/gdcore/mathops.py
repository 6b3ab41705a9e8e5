"""The math people reach for, with torch's names and argument forms: softmax, log_softmax,
logsumexp, norm, var, std, prod, cumsum, dot, mv, outer, meshgrid, square, rounding, erf,
erfinv, log1p, expm1, log2, log10, rsqrt, reciprocal. Each parses torch's arguments
(``dim`` as an int or a tuple, ``correction=`` or the older ``unbiased=``, ``dtype=``) and
calls one differentiable C++ op (cpp/src/ops/softmax.cpp, norms.cpp, scan.cpp, ...).
``install_methods`` also makes them Tensor methods, as in torch.
"""
from __future__ import annotations

import inspect
import numbers
import warnings
from typing import Optional, Sequence, Tuple, Union

from . import _core
from ._core import Tensor

__all__ = ["softmax", "log_softmax", "logsumexp", "norm", "var", "std", "var_mean", "std_mean", "prod", "cumsum",
           "dot", "mv", "outer", "ger", "meshgrid", "square", "floor", "ceil", "round", "trunc", "fix", "erf",
           "erfinv", "log1p", "expm1", "log2", "log10", "rsqrt", "reciprocal"]

Dim = Union[int, Sequence[int], None]

dot, mv, outer = _core.dot, _core.mv, _core.outer
square, floor, ceil, trunc = _core.square, _core.floor, _core.ceil, _core.trunc
erf, erfinv, log1p, expm1 = _core.erf, _core.erfinv, _core.log1p, _core.expm1
log2, log10, rsqrt, reciprocal = _core.log2, _core.log10, _core.rsqrt, _core.reciprocal


def _require_tensor(value, op: str, name: str = "input") -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be a gdcore.Tensor, got {type(value).__name__}")


def _check_dim(dim, op: str) -> None:
    """None, an int, or a sequence of ints (torch's dim argument of a reduction)."""
    def is_int(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)
    if dim is None or is_int(dim):
        return
    if isinstance(dim, (tuple, list)) and all(is_int(d) for d in dim):
        return
    raise TypeError(f"{op}(): argument 'dim' must be an int, a tuple of ints or None, got {type(dim).__name__}")


def ger(input: Tensor, vec2: Tensor) -> Tensor:
    """torch's older name for ``outer``: (n,) x (m,) -> (n, m)."""
    _require_tensor(input, "ger")
    _require_tensor(vec2, "ger", "vec2")
    return _core.outer(input, vec2)


def fix(input: Tensor) -> Tensor:
    """torch's other name for ``trunc`` (rounds toward zero; gradient 0)."""
    _require_tensor(input, "fix")
    return _core.trunc(input)


def _cast(input: Tensor, dtype) -> Tensor:
    return input if dtype is None else input.to(dtype)


def _legacy_softmax_dim(ndim: int, op: str) -> int:
    # torch.nn.functional.softmax(x) without dim: dim 0 for 0-, 1- and 3-d inputs, else 1, with a warning.
    warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to include dim=X "
                  "as an argument.", UserWarning, stacklevel=4)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: Optional[int] = None, *, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (the row maximum is subtracted first, so large logits
    are safe). Same shape as ``input``; ``dtype`` casts the input first, as in torch."""
    _require_tensor(input, "softmax")
    if dim is None:
        dim = _legacy_softmax_dim(input.dim(), "softmax")
    return _core._softmax(_cast(input, dtype), dim)


def log_softmax(input: Tensor, dim: Optional[int] = None, *, dtype=None) -> Tensor:
    """x - logsumexp(x) along ``dim``, computed stably. Same shape as ``input``."""
    _require_tensor(input, "log_softmax")
    if dim is None:
        dim = _legacy_softmax_dim(input.dim(), "log_softmax")
    return _core._log_softmax(_cast(input, dtype), dim)


def logsumexp(input: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(input))) over ``dim`` (an int, a tuple, or None for all dims), computed stably."""
    _require_tensor(input, "logsumexp")
    _check_dim(dim, "logsumexp")
    return _core._logsumexp(input, dim, keepdim)


def _correction(op: str, unbiased, correction) -> float:
    if unbiased is not None and correction is not None:
        raise ValueError(f"{op}: pass either unbiased= or correction=, not both")
    if correction is not None:
        return float(correction)
    return 1.0 if unbiased is None or unbiased else 0.0


def var(input: Tensor, dim: Dim = None, unbiased: Optional[bool] = None, keepdim: bool = False, *,
        correction: Optional[float] = None) -> Tensor:
    """sum((x - mean)^2) / max(0, N - correction) over ``dim`` (None: all elements). The default
    correction is 1 (Bessel's); ``unbiased=False`` means correction=0. ``var(x, True)`` (torch's
    older ``var(input, unbiased)``) also works."""
    _require_tensor(input, "var")
    if isinstance(dim, bool):  # var(input, unbiased)
        dim, unbiased = None, dim
    _check_dim(dim, "var")
    return _core._var(input, dim, _correction("var", unbiased, correction), keepdim)


def std(input: Tensor, dim: Dim = None, unbiased: Optional[bool] = None, keepdim: bool = False, *,
        correction: Optional[float] = None) -> Tensor:
    """sqrt(var(...)), with var's arguments."""
    _require_tensor(input, "std")
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    _check_dim(dim, "std")
    return _core._std(input, dim, _correction("std", unbiased, correction), keepdim)


def var_mean(input: Tensor, dim: Dim = None, unbiased: Optional[bool] = None, keepdim: bool = False, *,
             correction: Optional[float] = None) -> Tuple[Tensor, Tensor]:
    """(var, mean) over ``dim``."""
    return (var(input, dim, unbiased, keepdim, correction=correction),
            input.mean(None if isinstance(dim, bool) else dim, keepdim))


def std_mean(input: Tensor, dim: Dim = None, unbiased: Optional[bool] = None, keepdim: bool = False, *,
             correction: Optional[float] = None) -> Tuple[Tensor, Tensor]:
    """(std, mean) over ``dim``."""
    return (std(input, dim, unbiased, keepdim, correction=correction),
            input.mean(None if isinstance(dim, bool) else dim, keepdim))


def prod(input: Tensor, dim: Optional[int] = None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The product of all elements (a 0-d tensor) or along ``dim``. The gradient is exact at zeros."""
    _require_tensor(input, "prod")
    if dim is not None and (not isinstance(dim, numbers.Integral) or isinstance(dim, bool)):
        raise TypeError(f"prod(): argument 'dim' must be an int or None, got {type(dim).__name__}")
    return _core._prod(_cast(input, dtype), dim, keepdim)


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sums along ``dim``: out[..., i, ...] = sum of input[..., :i+1, ...]."""
    _require_tensor(input, "cumsum")
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
        raise TypeError(f"cumsum(): argument 'dim' must be an int, got {type(dim).__name__}")
    return _core._cumsum(_cast(input, dtype), dim)


def round(input: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001
    """Rounds half to even (as torch and numpy); with ``decimals``, to that many decimal places
    (round(x * 10^d) / 10^d). Gradient 0. (torch takes decimals as a keyword; so does gdcore, and
    also positionally.)"""
    _require_tensor(input, "round")
    if not isinstance(decimals, numbers.Integral) or isinstance(decimals, bool):
        raise TypeError(f"round(): argument 'decimals' must be an int, got {type(decimals).__name__}")
    if decimals == 0:
        return _core._round(input)
    scale = 10.0 ** decimals
    return _core._round(input * scale) / scale


def _norm_ord(p, op: str) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise ValueError(f"{op}: ord must be a number (1, 2, inf, -inf, 0, any p), got {p!r}")
    return float(p)


def norm(input: Tensor, p: Union[str, float, None] = "fro", dim: Dim = None, keepdim: bool = False,
         dtype=None) -> Tensor:
    """torch.norm: the vector p-norm of ``input`` over ``dim`` (all elements when None).
    p = 'fro' (or None) is the 2-norm; p may be 1, 2, inf, -inf, 0 or any number. 'nuc' is the
    nuclear norm (the sum of the singular values) of a 2-d input or over a pair of dims. The
    gradient of the 2-norm at 0 is 0, as in torch."""
    _require_tensor(input, "norm")
    _check_dim(dim, "norm")
    if p is not None and not isinstance(p, (str, numbers.Real)):
        raise TypeError(f"norm(): argument 'p' must be a number, 'fro' or None, got {type(p).__name__}")
    input = _cast(input, dtype)
    if p is None or p == "fro":
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise ValueError(f"norm: p='fro' takes at most two dims, got dim={dim!r}")
        return _core._vector_norm(input, 2.0, dim, keepdim)
    if p == "nuc":
        from . import linalg  # (linalg imports this module's neighbours; imported here to keep the order free)
        if dim is None:
            if input.dim() != 2:
                raise ValueError(f"norm: p='nuc' needs a 2-d input or a pair of dims, got shape {tuple(input.shape)}")
            dim = (-2, -1)
        if not isinstance(dim, (tuple, list)) or len(dim) != 2:
            raise ValueError(f"norm: p='nuc' needs a pair of dims, got dim={dim!r}")
        return linalg.matrix_norm(input, "nuc", tuple(dim), keepdim)
    if isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is not supported (use 'fro', 'nuc' or a number)")
    return _core._vector_norm(input, _norm_ord(p, "norm"), dim, keepdim)


def meshgrid(*tensors, indexing: Optional[str] = None) -> Tuple[Tensor, ...]:
    """Coordinate grids from 1-d tensors (as views, like torch). indexing='ij' (matrix order: the
    i-th output varies along dim i) or 'xy' (Cartesian: the first two dims swapped). Without
    ``indexing`` it is 'ij' with torch's warning that the argument will be required."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if not tensors:
        raise ValueError("meshgrid: expects at least one tensor")
    for k, t in enumerate(tensors):
        _require_tensor(t, "meshgrid")
        if t.dim() > 1:
            raise ValueError(f"meshgrid: expects 0-d or 1-d tensors, tensor {k} has shape {tuple(t.shape)}")
    if len({t.dtype for t in tensors}) > 1:
        raise ValueError("meshgrid: expects all tensors to have the same dtype, got "
                         + ", ".join(str(t.dtype) for t in tensors))
    ts = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    sizes = [t.shape[0] for t in ts]
    grids = []
    for k, t in enumerate(ts):
        shape = [1] * len(ts)
        shape[k] = -1
        grids.append(t.reshape(*shape).expand(*sizes))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def _method_var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(self, dim, unbiased, keepdim, correction=correction)


def _method_std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(self, dim, unbiased, keepdim, correction=correction)


def install_methods() -> None:
    """Makes the functions above Tensor methods (x.softmax(1), x.norm(), x.var(0), ...)."""
    plain = {
        "softmax": softmax, "log_softmax": log_softmax, "logsumexp": logsumexp, "norm": norm, "prod": prod,
        "cumsum": cumsum, "dot": dot, "mv": mv, "outer": outer, "ger": ger, "square": square, "floor": floor,
        "ceil": ceil, "round": round, "trunc": trunc, "fix": fix, "erf": erf, "erfinv": erfinv, "log1p": log1p,
        "expm1": expm1, "log2": log2, "log10": log10, "rsqrt": rsqrt, "reciprocal": reciprocal,
        "var": _method_var, "std": _method_std,
    }
    for name, fn in plain.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, _as_method(fn, name))


def _as_method(fn, name: str):
    """fn(input, ...) as a Tensor method (a C++ function does not bind as one by itself); its
    signature names the tensor `self`, as a method's does."""
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__, method.__qualname__, method.__doc__ = name, f"Tensor.{name}", fn.__doc__
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return method
    params = list(sig.parameters.values())
    if params:
        method.__signature__ = sig.replace(parameters=[params[0].replace(name="self")] + params[1:])
    return method
