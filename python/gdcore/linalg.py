"""``gdcore.linalg``: the norms and the singular value decomposition of ``torch.linalg``.
``vector_norm`` and the entrywise matrix norms ('fro', 1, -1, inf, -inf) are differentiable
compositions of C++ ops; ``svd``/``svdvals`` run LAPACK's gesdd in C++ (one node with torch's
backward), and the spectral norms (ord 2, -2, 'nuc') are the max, min and sum of ``svdvals``.
"""
from __future__ import annotations

import math
from collections import namedtuple
from typing import Optional, Sequence, Tuple, Union

from . import _core
from ._core import Tensor

__all__ = ["norm", "vector_norm", "matrix_norm", "svd", "svdvals"]
# solve, inv, det, slogdet, cholesky, eigh, eigvalsh: LAPACK forwards with torch's backwards (linalg_solvers.py)
from .linalg_solvers import cholesky, det, eigh, eigvalsh, inv, slogdet, solve  # noqa: E402
__all__ += ["solve", "inv", "det", "slogdet", "cholesky", "eigh", "eigvalsh"]

# torch.return_types.linalg_svd: a tuple with the fields U, S, Vh.
linalg_svd = namedtuple("linalg_svd", ["U", "S", "Vh"])

Ord = Union[float, int, str, None]


def _require_tensor(value, op: str) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: expected a gdcore.Tensor, got {type(value).__name__}")


def vector_norm(x: Tensor, ord: float = 2, dim: Union[int, Sequence[int], None] = None, keepdim: bool = False, *,
                dtype=None) -> Tensor:
    """(sum |x|^ord)^(1/ord) over ``dim`` (all elements when None). ord = inf / -inf gives
    max / min |x|, ord = 0 the number of non-zeros. The gradient at a zero norm is 0 (torch's)."""
    _require_tensor(x, "linalg.vector_norm")
    if isinstance(ord, (bool, str)) or not isinstance(ord, (int, float)):
        raise ValueError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    if dtype is not None:
        x = x.to(dtype)
    return _core._vector_norm(x, float(ord), dim, keepdim)


def _two_dims(A: Tensor, dim, op: str) -> Tuple[int, int]:
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise ValueError(f"{op}: dim must be a pair of dims for a matrix norm, got {dim!r}")
    if A.dim() < 2:
        raise ValueError(f"{op}: a matrix norm needs a tensor with at least 2 dims, got shape {tuple(A.shape)}")
    d0, d1 = (int(d) % A.dim() if -A.dim() <= int(d) < A.dim() else None for d in dim)
    if d0 is None or d1 is None:
        raise IndexError(f"{op}: dim {tuple(dim)} out of range for a tensor with {A.dim()} dims")
    if d0 == d1:
        raise ValueError(f"{op}: the two dims must differ, got {tuple(dim)}")
    return d0, d1


def matrix_norm(A: Tensor, ord: Ord = "fro", dim: Tuple[int, int] = (-2, -1), keepdim: bool = False, *,
                dtype=None) -> Tensor:
    """Matrix norm over the two dims ``dim`` (rows, columns): 'fro' (sqrt of the sum of squares),
    1 / -1 (max / min column sum of |A|), inf / -inf (max / min row sum of |A|), 2 / -2 (the
    largest / smallest singular value), 'nuc' (the sum of the singular values)."""
    _require_tensor(A, "linalg.matrix_norm")
    if dtype is not None:
        A = A.to(dtype)
    rows, cols = _two_dims(A, dim, "linalg.matrix_norm")
    if ord == "fro":
        return _core._vector_norm(A, 2.0, (rows, cols), keepdim)
    if ord in (2, -2, "nuc"):
        return _spectral_norm(A, ord, rows, cols, keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        # 1: the largest column sum (sum over rows first); inf: the largest row sum.
        inner, outer = (rows, cols) if abs(ord) == 1 else (cols, rows)
        sums = A.abs().sum(inner, True)
        out = sums.amax(outer, True) if ord > 0 else sums.amin(outer, True)
        if not keepdim:
            out = out.squeeze(max(rows, cols)).squeeze(min(rows, cols))
        return out
    raise ValueError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, got {ord!r}")


def _spectral_norm(A: Tensor, ord: Ord, rows: int, cols: int, keepdim: bool) -> Tensor:
    # The two dims moved last (others in order), as torch does, then reduce the singular values.
    others = [d for d in range(A.dim()) if d not in (rows, cols)]
    sv = svdvals(A.permute(*others, rows, cols))
    if ord == "nuc":
        out = sv.sum(-1)
    elif sv.shape[-1] == 0:
        if ord == -2:  # (torch: amin over an empty dim)
            raise IndexError(f"linalg.matrix_norm: ord=-2 of an empty matrix (shape {tuple(A.shape)}) has no "
                             "smallest singular value")
        out = sv.sum(-1)  # ord=2 of an empty matrix is 0, as in torch
    else:
        out = sv.amax(-1) if ord == 2 else sv.amin(-1)
    if keepdim:
        out = out.unsqueeze(min(rows, cols)).unsqueeze(max(rows, cols))
    return out


def svd(A: Tensor, full_matrices: bool = True, *, driver: Optional[str] = None, out=None):
    """A (..., m, n) = U @ diag(S) @ Vh with k = min(m, n): U (..., m, k), S (..., k) descending,
    Vh (..., k, n); with full_matrices=True (torch's default) U is (..., m, m) and Vh (..., n, n).
    float32/float64, batched over the leading dims (LAPACK's gesdd). Returns the named tuple
    (U, S, Vh). Gradients through U and Vh are torch's: they assume distinct singular values (and a
    full-rank A when m != n), and ignore the extra columns of U / rows of Vh of full_matrices."""
    _require_tensor(A, "linalg.svd")
    if driver is not None:
        raise ValueError(f"linalg.svd: driver={driver!r} is only for CUDA inputs in torch; gdcore runs on the CPU "
                         "(leave driver=None)")
    if out is not None:
        raise ValueError("linalg.svd: out= is not supported by gdcore; use the returned tensors")
    return linalg_svd(*_core._linalg_svd(A, bool(full_matrices)))


def svdvals(A: Tensor, *, driver: Optional[str] = None, out=None) -> Tensor:
    """The singular values (..., min(m, n)) of A (..., m, n), descending. The gradient is
    U @ diag(grad) @ Vh (the vectors are computed only when a gradient is needed)."""
    _require_tensor(A, "linalg.svdvals")
    if driver is not None:
        raise ValueError(f"linalg.svdvals: driver={driver!r} is only for CUDA inputs in torch; gdcore runs on the "
                         "CPU (leave driver=None)")
    if out is not None:
        raise ValueError("linalg.svdvals: out= is not supported by gdcore; use the returned tensor")
    return _core._linalg_svdvals(A)


def norm(A: Tensor, ord: Ord = None, dim: Union[int, Sequence[int], None] = None, keepdim: bool = False, *,
         dtype=None) -> Tensor:
    """torch.linalg.norm: a vector norm when ``dim`` is an int (or A is 1-d), a matrix norm when
    ``dim`` is a pair (or A is 2-d and ord is given). With ord=None: the 2-norm of the flattened
    tensor ('fro' for a pair of dims)."""
    _require_tensor(A, "linalg.norm")
    if dtype is not None:
        A = A.to(dtype)
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        return _core._vector_norm(A, 2.0, dim, keepdim)
    if dim is None:
        if A.dim() == 1:
            return vector_norm(A, ord, None, keepdim)
        if A.dim() == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim)
        raise ValueError(f"linalg.norm: with ord={ord!r} and dim=None the input must be 1-d or 2-d, got shape "
                         f"{tuple(A.shape)}; pass dim")
    if len(dim) == 1:
        if isinstance(ord, str):
            raise ValueError(f"linalg.norm: ord={ord!r} is a matrix norm; it needs two dims")
        return vector_norm(A, ord, dim, keepdim)
    if len(dim) == 2:
        return matrix_norm(A, ord, tuple(dim), keepdim)
    raise ValueError(f"linalg.norm: dim must be an int or a pair of ints, got {dim!r}")


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (default the last), after broadcasting."""
    from .tensor_products import linalg_cross
    return linalg_cross(input, other, dim=dim)
__all__ += ["cross"]
