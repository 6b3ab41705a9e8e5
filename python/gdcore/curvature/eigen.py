"""The largest eigenvalues of a loss's Hessian and their eigenvectors, from Hessian-vector products only.

The default method is Lanczos (lanczos.py), which needs far fewer products than power iteration when
the top eigenvalues lie close together, and whose stopping rule bounds the error: a Ritz value theta
with Ritz vector y satisfies |H y - theta y| = |beta_m s_m|, the residual tested against ``tol``.
``method="power"`` is PyHessian's power iteration with deflation, kept for comparisons with it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from .. import _core
from .lanczos import lanczos, power_iteration, ritz_pairs
from .operator import HessianOperator, as_parameters, random_vector

__all__ = ["Eigenpairs", "top_eigenvalues"]

METHODS = ("lanczos", "power")


@dataclass
class Eigenpairs:
    """What ``top_eigenvalues`` returns; unpacks as ``eigenvalues, eigenvectors = ...``.

    ``eigenvalues``: k floats, largest first. ``eigenvectors``: k lists of tensors shaped like the
    parameters, each list a unit vector over all parameters together. ``matvecs``: Hessian-vector
    products taken. ``converged``: whether every eigenvalue met ``tol`` within ``max_iter``.
    ``loss``: the loss at which the Hessian was taken.
    """
    eigenvalues: list
    eigenvectors: list = field(repr=False)
    matvecs: int = 0
    converged: bool = True
    loss: float = math.nan

    def __iter__(self):
        return iter((self.eigenvalues, self.eigenvectors))


def _check_int(caller: str, name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{caller}: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _check_tol(caller: str, tol: Any) -> float:
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not (tol > 0 and math.isfinite(tol)):
        raise ValueError(f"{caller}: tol must be a positive number, got {tol!r}")
    return float(tol)


def breakdown_tolerance(op: HessianOperator) -> float:
    """Relative size of a beta that counts as zero: above the rounding noise of one product in this dtype."""
    return float(np.finfo(op.dtype).eps) ** 0.75


def top_eigenvalues(closure: Callable, params: Any, k: int = 1, max_iter: int = 100, tol: float = 1e-4, *,
                    method: str = "lanczos", generator: Optional[_core.Generator] = None,
                    init: Any = None) -> Eigenpairs:
    """The ``k`` largest eigenvalues of the Hessian of ``closure()`` with respect to ``params``.

    ``closure()`` returns the scalar loss (as an optimizer closure does, without calling backward); it is
    called once and its gradient graph is reused for every Hessian-vector product (double backward; the
    Hessian is never formed). ``params``: a Module, a tensor or a list of tensors (float32 or float64,
    requiring grad), seen together as one vector of n elements.

    ``method="lanczos"`` (default) returns the algebraically largest eigenvalues and stops when each of
    the k Ritz residuals |H y - theta y| is at most ``tol`` times the largest |theta|, or after
    ``max_iter`` products (at most n: then the result is exact up to rounding). ``method="power"``
    (PyHessian's) returns the largest in magnitude and stops when an eigenvalue changes by less than
    ``tol`` (relative) between iterations, using up to ``max_iter`` products per eigenvalue.
    ``generator`` draws the random start (gdcore's default generator when None); ``init``, a list of
    tensors shaped like ``params`` (e.g. a previous eigenvector), replaces the random start.

    Returns an :class:`Eigenpairs` (``eigenvalues, eigenvectors = top_eigenvalues(...)``).
    """
    caller = "top_eigenvalues"
    if method not in METHODS:
        raise ValueError(f"{caller}: method must be one of {METHODS}, got {method!r}")
    k = _check_int(caller, "k", k, 1)
    max_iter = _check_int(caller, "max_iter", max_iter, 1)
    tol = _check_tol(caller, tol)
    params = as_parameters(params, caller)
    n = sum(p.numel() for p in params)
    if k > n:
        raise ValueError(f"{caller}: k={k} is larger than the number of parameters ({n}); the Hessian has only "
                         f"{n} eigenvalues, so ask for k <= {n}")
    if method == "lanczos" and max_iter < k:
        raise ValueError(f"{caller}: max_iter={max_iter} is smaller than k={k}; Lanczos needs at least k products")
    op = HessianOperator(closure, params, caller)
    start = op.from_tensors(init, "init") if init is not None else None
    if start is not None and not (np.all(np.isfinite(start)) and np.linalg.norm(start) > 0):
        raise ValueError(f"{caller}: init must be a finite, non-zero vector")

    def draw() -> np.ndarray:
        return random_vector(n, generator)

    if method == "power":
        first = [start]

        def start_vector() -> np.ndarray:
            return first.pop() if first and first[0] is not None else draw()
        values, vectors, _, converged = power_iteration(op.matvec, k, max_iter, tol, start_vector)
        order = np.argsort(values)[::-1]
        values = [values[i] for i in order]
        vectors = [vectors[i] for i in order]
    else:
        def done(alphas: np.ndarray, betas: np.ndarray, last_beta: float) -> bool:
            if len(alphas) < k:
                return False
            theta, s = ritz_pairs(alphas, betas)
            residuals = np.abs(last_beta * s[-1, -k:])
            return bool(np.all(residuals <= tol * max(np.max(np.abs(theta)), np.finfo(float).tiny)))

        run = lanczos(op.matvec, n, min(max_iter, n), start if start is not None else draw(), draw,
                      breakdown_tolerance(op), done)
        theta, s = ritz_pairs(run.alphas, run.betas)
        top = np.argsort(theta)[::-1][:k]
        values = [float(theta[i]) for i in top]
        vectors = [run.basis.T @ s[:, i] for i in top]
        converged = len(run.alphas) == n or done(run.alphas, run.betas, run.last_beta)
    return Eigenpairs(eigenvalues=values, eigenvectors=[op.to_tensors(v / np.linalg.norm(v)) for v in vectors],
                      matvecs=op.matvecs, converged=bool(converged), loss=op.loss)
