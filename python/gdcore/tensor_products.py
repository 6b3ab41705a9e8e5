"""Products of whole tensors with torch's names: ``kron`` (the Kronecker product), ``cross`` (the
3-vector cross product along a dimension; ``linalg.cross`` is the same with dim=-1) and ``tensordot``
(contraction over chosen dimensions, numpy's), and ``cdist`` (the p-norm distance between every row of
one batch of points and every row of another).

Each is a few of the core's differentiable ops: kron is one broadcast product and a reshape, cross
three pairs of products, tensordot a permute, reshapes and one matrix product, so the gradients
(and higher ones) are those ops'.
"""
from __future__ import annotations

import numbers
import warnings
from typing import List

import numpy as np

from . import _core
from ._core import Tensor
from .shape_ops import wrap_dim

__all__ = ["kron", "cross", "tensordot", "cdist"]


def _require_tensors(op: str, **tensors) -> None:
    for name, value in tensors.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be a gdcore.Tensor, got {type(value).__name__}")


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: block (i, j, ...) of the result is input[i, j, ...] * other. The shapes
    are padded with leading 1s to the same length; the result's size k is input's times other's."""
    _require_tensors("kron", input=input, other=other)
    n = max(input.dim(), other.dim())
    sa = [1] * (n - input.dim()) + list(input.shape)
    sb = [1] * (n - other.dim()) + list(other.shape)
    a_shape, b_shape = [], []
    for x, y in zip(sa, sb):
        a_shape += [x, 1]
        b_shape += [1, y]
    return (input.reshape(*a_shape) * other.reshape(*b_shape)).reshape(*[x * y for x, y in zip(sa, sb)])


def _broadcast(a: Tensor, b: Tensor, op: str):
    try:
        shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        raise RuntimeError(f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast "
                           "together") from None
    return a.expand(*shape), b.expand(*shape)


def cross(input: Tensor, other: Tensor, dim=None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (after broadcasting the two). Without ``dim`` the
    first dimension of size 3 is used, with torch's deprecation warning; linalg.cross uses dim=-1."""
    _require_tensors("cross", input=input, other=other)
    a, b = _broadcast(input, other, "cross")
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        sizes = list(a.shape)
        if 3 not in sizes:
            raise RuntimeError("no dimension of size 3 in input")
        d = sizes.index(3)
    else:
        d = wrap_dim(dim, a.dim(), "cross")
        if a.dim() == 0 or a.shape[d] != 3:
            got = a.shape[d] if a.dim() else 1
            raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got {got} and {got}")
    a0, a1, a2 = (a.select(d, k) for k in range(3))
    b0, b1, b2 = (b.select(d, k) for k in range(3))
    return _core.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """torch.linalg.cross: the cross product along ``dim`` (default the last), after broadcasting."""
    return cross(input, other, dim)


def _dim_list(value, op: str) -> List[int]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return [int(value)]
    if isinstance(value, Tensor):
        value = value.tolist()
        value = value if isinstance(value, list) else [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                                for v in value):
        return [int(v) for v in value]
    raise TypeError(f"{op}(): dims must be an int or a pair of lists of ints, got {value!r}")


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Sums the products of ``a`` and ``b`` over the dimension pairs ``dims``: an int n pairs a's last
    n dimensions with b's first n; a pair of lists pairs them one to one. The result has a's free
    dimensions, then b's."""
    _require_tensors("tensordot", a=a, b=b)
    if out is not None:
        raise TypeError("tensordot(): out= is not supported by gdcore; use the returned tensor")
    if isinstance(dims, (list, tuple)) or (isinstance(dims, Tensor) and dims.dim() > 0):
        if len(dims) != 2:
            raise RuntimeError(f"tensordot expects dims to be an int or a pair of lists, got {len(dims)} lists")
        da, db = _dim_list(dims[0], "tensordot"), _dim_list(dims[1], "tensordot")
    else:
        n = dims.item() if isinstance(dims, Tensor) else dims
        if not isinstance(n, numbers.Integral) or isinstance(n, bool):
            raise TypeError(f"tensordot(): dims must be an int or a pair of lists of ints, got {dims!r}")
        if n < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={n}")
        if n > a.dim() or n > b.dim():
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={n}")
        da, db = list(range(a.dim() - n, a.dim())), list(range(n))
    if len(da) != len(db):
        raise RuntimeError(f"both dimension lists should have same length, got {len(da)} and {len(db)}")
    da = [wrap_dim(d, a.dim(), "tensordot") for d in da]
    db = [wrap_dim(d, b.dim(), "tensordot") for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[x]} in dim {x} "
                               f"and second has size {b.shape[y]} in dim {y}")
    free_a = [d for d in range(a.dim()) if d not in da]
    free_b = [d for d in range(b.dim()) if d not in db]
    k = int(np.prod([a.shape[d] for d in da], dtype=np.int64))
    ma = int(np.prod([a.shape[d] for d in free_a], dtype=np.int64))
    nb = int(np.prod([b.shape[d] for d in free_b], dtype=np.int64))
    a2 = a.permute(*free_a, *da).reshape(ma, k)
    b2 = b.permute(*db, *free_b).reshape(k, nb)
    return _core.matmul(a2, b2).reshape(*[a.shape[d] for d in free_a], *[b.shape[d] for d in free_b])


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """``||x1[..., i, :] - x2[..., j, :]||_p`` for every i, j: (B.., P, M) and (B.., R, M) give (B.., P, R),
    batch dims broadcast (torch.cdist). Computed from the differences (no matrix-product shortcut, so no
    cancellation for close points); the gradient at a zero distance is 0, as torch's."""
    _require_tensors("cdist", x1=x1, x2=x2)
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or p < 0 or p != p:
        raise ValueError(f"cdist(): p must be a non-negative number, got {p!r}")
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"cdist(): {compute_mode!r} is not a valid value for compute_mode")
    if x1.dim() < 2 or x2.dim() < 2:
        raise ValueError(f"cdist(): x1 and x2 must have at least 2 dimensions (points in rows), got shapes "
                         f"{list(x1.shape)} and {list(x2.shape)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise ValueError(f"cdist(): x1 and x2 must have the same number of columns (the points' dimension), got "
                         f"{x1.shape[-1]} and {x2.shape[-1]}")
    if not (x1.is_floating_point() and x2.is_floating_point()):
        raise TypeError(f"cdist(): only supports floating-point dtypes, got {x1.dtype} and {x2.dtype}")
    from .linalg import vector_norm
    return vector_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), ord=float(p), dim=-1)


def install_methods() -> None:
    from .shape_ops import as_method
    for fn in (kron, cross):
        if not hasattr(Tensor, fn.__name__):
            setattr(Tensor, fn.__name__, as_method(fn, fn.__name__))
