"""The Lanczos iteration on a symmetric operator given only by its products, and power iteration with
deflation (PyHessian's method), both on float64 numpy vectors.

Lanczos builds an orthonormal basis Q of the Krylov space {v, Hv, H^2 v, ...} and the tridiagonal
T = Q^T H Q (alphas on the diagonal, betas beside it); T's eigenvalues (Ritz values) approach H's
extreme eigenvalues first, and after n steps they are H's eigenvalues. Every new vector is
orthogonalised against the whole basis, twice ("twice is enough"), so the basis stays orthogonal in
floating point and no ghost copies of converged eigenvalues appear; the basis costs steps x n floats,
fine for the tens to hundreds of steps these tools take. When the Krylov space closes early (beta ~ 0,
e.g. a Hessian with repeated eigenvalues) the iteration continues from a fresh random vector
orthogonal to the basis, with beta = 0, so every eigenvalue stays reachable.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

__all__ = ["LanczosRun", "lanczos", "ritz_pairs", "power_iteration"]


@dataclass
class LanczosRun:
    """``alphas`` (m,), ``betas`` (m-1,) of T; ``basis`` (m, n) with orthonormal rows; ``last_beta`` the norm of
    the residual left after the m-th step (0 when the space closed)."""
    alphas: np.ndarray
    betas: np.ndarray
    basis: np.ndarray
    last_beta: float


def ritz_pairs(alphas: np.ndarray, betas: np.ndarray) -> tuple:
    """Eigenvalues (ascending) and eigenvectors (columns) of the tridiagonal matrix T."""
    T = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
    return np.linalg.eigh(T)


def _orthogonalise(w: np.ndarray, basis: np.ndarray) -> np.ndarray:
    for _ in range(2):
        w = w - basis.T @ (basis @ w)
    return w


def lanczos(matvec: Callable[[np.ndarray], np.ndarray], n: int, steps: int, start: np.ndarray,
            restart: Callable[[], np.ndarray], breakdown: float,
            converged: Optional[Callable[[np.ndarray, np.ndarray, float], bool]] = None) -> LanczosRun:
    """Up to ``steps`` (<= n) Lanczos steps from ``start``; ``restart()`` gives a random vector when the space
    closes; a beta below ``breakdown`` times the largest entry of T so far counts as closed.
    ``converged(alphas, betas, last_beta)``, when given, is asked after each step and may stop early."""
    basis = np.zeros((steps, n))
    alphas, betas = [], []
    q = start / np.linalg.norm(start)
    scale, last_beta = 0.0, 0.0
    for j in range(steps):
        basis[j] = q
        w = matvec(q)
        alpha = float(q @ w)
        w = _orthogonalise(w, basis[:j + 1])
        alphas.append(alpha)
        last_beta = float(np.linalg.norm(w))
        scale = max(scale, abs(alpha), last_beta)
        closed = last_beta <= breakdown * scale
        if closed:
            last_beta = 0.0
        if j + 1 == steps or (converged is not None and converged(np.array(alphas), np.array(betas), last_beta)):
            break
        if closed:
            w = _orthogonalise(restart(), basis[:j + 1])
            betas.append(0.0)
            q = w / np.linalg.norm(w)
        else:
            betas.append(last_beta)
            q = w / last_beta
    m = len(alphas)
    return LanczosRun(np.array(alphas), np.array(betas), basis[:m], last_beta)


def power_iteration(matvec: Callable[[np.ndarray], np.ndarray], k: int, max_iter: int, tol: float,
                    start: Callable[[], np.ndarray]) -> tuple:
    """PyHessian's top-k method: power iteration on H, each eigenvector found deflated out of the next.

    It converges to the eigenvalues largest in magnitude (a strongly negative one counts as "top"); an
    eigenvalue is accepted when it changes by less than ``tol`` relative between iterations.
    Returns (eigenvalues in the order found, eigenvectors as rows, products taken, all converged)."""
    values, vectors, products, all_converged = [], [], 0, True
    for _ in range(k):
        v = start()
        found = np.array(vectors) if vectors else np.zeros((0, v.size))
        value, done = None, False
        for _ in range(max_iter):
            v = _orthogonalise(v, found) if vectors else v
            v = v / np.linalg.norm(v)
            hv = matvec(v)
            products += 1
            new = float(v @ hv)
            if value is not None and abs(new - value) / (abs(value) + 1e-6) < tol:
                value, done = new, True
                break
            value = new
            norm = np.linalg.norm(hv)
            if norm == 0.0:     # v is in the null space: the eigenvalue 0, exactly
                done = True
                break
            v = hv / norm
        all_converged = all_converged and done
        v = _orthogonalise(v, found) if vectors else v
        values.append(value)
        vectors.append(v / np.linalg.norm(v))
    return values, vectors, products, all_converged
