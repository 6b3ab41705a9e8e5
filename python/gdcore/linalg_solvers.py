"""``gdcore.linalg``'s solvers and factorizations: solve, inv, det, slogdet, cholesky, eigh,
eigvalsh (and torch's top-level inverse, det, logdet, slogdet). The forwards run LAPACK in C++
(cpp/src/ops/linalg_solvers.cpp: gesv, getrf, potrf, syevd), batched over the leading dims;
each is an autograd.Function whose backward is torch's formula written with differentiable
ops (solve among them), so second derivatives follow.

As in torch, cholesky and eigh read one triangle of A and their gradients are those of a
symmetric input (check them through a symmetric composition such as X @ X.mT + n * I).
The gradient of det at a singular matrix raises (torch's uses an SVD there).
"""
from __future__ import annotations

from collections import namedtuple

from . import _core
from ._core import Tensor
from ._tensor_method import tensor_method
from .autograd.function import Function

__all__ = ["solve", "inv", "det", "slogdet", "logdet", "cholesky", "eigh", "eigvalsh"]

# torch.return_types: tuples with named fields
slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])
eigh_result = namedtuple("eigh", ["eigenvalues", "eigenvectors"])


def _require_matrix(A, op: str) -> None:
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a gdcore.Tensor, got {type(A).__name__}")
    if A.dim() < 2:
        raise ValueError(f"{op}: A must have at least 2 dimensions, got shape {tuple(A.shape)}")
    if A.shape[-1] != A.shape[-2]:
        raise ValueError(f"{op}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                         f"{A.shape[-1]} matrices")


def _eye_like(A: Tensor) -> Tensor:
    from .creation import eye
    return eye(A.shape[-1], dtype=A.dtype)


def _lower_mask(n: int, dtype, diagonal: int = 0) -> Tensor:
    """1 on and below the `diagonal`-th diagonal of an (n, n) matrix, 0 above."""
    from .creation import arange
    i = arange(n).reshape(n, 1)
    j = arange(n).reshape(1, n)
    return (i - j >= -diagonal).to(dtype)


class _Solve(Function):
    @staticmethod
    def forward(ctx, A, B):
        X = _core._linalg_solve_forward(A, B)
        ctx.save_for_backward(A, X)
        return X

    @staticmethod
    def backward(ctx, gX):
        A, X = ctx.saved_tensors
        gB = _Solve.apply(A.mT, gX)  # A^T gB = gX
        gA = -(gB @ X.mT) if ctx.needs_input_grad[0] else None
        return gA, gB


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A @ X = B (or X @ A = B with left=False). A (*, n, n); B (*, n, k), or (*, n) / (n,) for a
    vector right-hand side; the batch dims broadcast. RuntimeError when A is singular."""
    _require_matrix(A, "linalg.solve")
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.solve: expected B to be a gdcore.Tensor, got {type(B).__name__}")
    if not left:
        return solve(A.mT, B.mT).mT
    n = A.shape[-1]
    vector = B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.dim() < 2 or Bm.shape[-2] != n:
        raise ValueError(f"linalg.solve: incompatible shapes of A {tuple(A.shape)} and B {tuple(B.shape)}: B needs "
                         f"{n} rows")
    batch = _broadcast(tuple(A.shape[:-2]), tuple(Bm.shape[:-2]))
    A_ = A.expand(*batch, n, n) if tuple(A.shape[:-2]) != batch else A
    B_ = Bm.expand(*batch, n, Bm.shape[-1]) if tuple(Bm.shape[:-2]) != batch else Bm
    X = _Solve.apply(A_, B_)
    return X.squeeze(-1) if vector else X


def _broadcast(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            raise ValueError(f"linalg.solve: the batch dimensions {a} and {b} of A and B do not broadcast")
        out.append(y if x == 1 else x)
    return tuple(out)


def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix of A (*, n, n). RuntimeError when one is singular."""
    _require_matrix(A, "linalg.inv")
    try:
        return solve(A, _eye_like(A).expand(*A.shape))
    except RuntimeError as error:
        raise RuntimeError(str(error).replace("linalg.solve", "linalg.inv")) from None


class _Slogdet(Function):
    @staticmethod
    def forward(ctx, A):
        sign, logabsdet, _ = _core._linalg_slogdet_forward(A)
        ctx.save_for_backward(A)
        ctx.mark_non_differentiable(sign)
        return sign, logabsdet

    @staticmethod
    def backward(ctx, gsign, glogabsdet):
        (A,) = ctx.saved_tensors
        return glogabsdet.unsqueeze(-1).unsqueeze(-1) * inv(A).mT  # d log|det A| = A^-T


class _Det(Function):
    @staticmethod
    def forward(ctx, A):
        d = _core._linalg_slogdet_forward(A)[2]
        ctx.save_for_backward(A, d)
        return d

    @staticmethod
    def backward(ctx, gdet):
        A, d = ctx.saved_tensors
        return (gdet * d).unsqueeze(-1).unsqueeze(-1) * inv(A).mT  # d det A = det A * A^-T


def slogdet(A: Tensor):
    """(sign, logabsdet) of the determinants of A (*, n, n): det = sign * exp(logabsdet); sign 0 and
    logabsdet -inf for a singular matrix. The gradient flows through logabsdet."""
    _require_matrix(A, "linalg.slogdet")
    return slogdet_result(*_Slogdet.apply(A))


def det(A: Tensor) -> Tensor:
    """The determinants of A (*, n, n), shape (*)."""
    _require_matrix(A, "linalg.det")
    return _Det.apply(A)


def logdet(A: Tensor) -> Tensor:
    """log(det(A)): NaN where the determinant is negative, -inf where it is 0 (torch.logdet)."""
    sign, logabsdet = slogdet(A)
    return logabsdet + _core.log(sign)


class _Cholesky(Function):
    @staticmethod
    def forward(ctx, A):
        L = _core._linalg_cholesky_forward(A)
        ctx.save_for_backward(L)
        return L

    @staticmethod
    def backward(ctx, gL):
        (L,) = ctx.saved_tensors
        n = L.shape[-1]
        # torch's cholesky_backward: gA = L^-T sym(tril(L^T gL)) L^-1, the diagonal of sym halved
        lower = _lower_mask(n, L.dtype)
        P = (L.mT @ gL) * lower
        P = 0.5 * (P + (P * _lower_mask(n, L.dtype, -1)).mT)
        Y = solve(L.mT, P)               # L^-T P
        return solve(L.mT, Y.mT).mT      # (L^-T P) L^-1


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """L (lower triangular) with A = L @ L.mT for the symmetric positive-definite A (*, n, n) (its lower
    triangle is read); with upper=True, U = L.mT. RuntimeError when A is not positive definite."""
    _require_matrix(A, "linalg.cholesky")
    L = _Cholesky.apply(A)
    return L.mT if upper else L


class _Eigh(Function):
    @staticmethod
    def forward(ctx, A, upper):
        w, V = _core._linalg_eigh_forward(A, upper)
        ctx.save_for_backward(w, V)
        return w, V

    @staticmethod
    def backward(ctx, gw, gV):
        w, V = ctx.saved_tensors
        eye = _eye_like(V)
        # torch's eigh backward: V (diag(gw) + skew(V^T gV) / E) V^T, E_ij = w_j - w_i (1 on the diagonal)
        M = V.mT @ gV
        inner = 0.5 * (M - M.mT) / (w.unsqueeze(-2) - w.unsqueeze(-1) + eye)
        inner = inner + eye * gw.unsqueeze(-2)
        return V @ inner @ V.mT, None


def eigh(A: Tensor, UPLO: str = "L"):
    """(eigenvalues (*, n) ascending, eigenvectors (*, n, n) as columns) of the symmetric A (*, n, n);
    UPLO='L' reads its lower triangle, 'U' the upper. Gradients through the eigenvectors assume
    distinct eigenvalues, as torch's do."""
    _require_matrix(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return eigh_result(*_Eigh.apply(A, UPLO == "U"))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues (*, n), ascending, of the symmetric A (*, n, n)."""
    return eigh(A, UPLO).eigenvalues


def install_methods() -> None:
    """Tensor.inverse, det, logdet, slogdet, as in torch."""
    for name, fn in (("inverse", inv), ("det", det), ("logdet", logdet), ("slogdet", slogdet)):
        if not hasattr(Tensor, name):
            setattr(Tensor, name, tensor_method(name, fn))
