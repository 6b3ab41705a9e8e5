"""The spectral density of a loss's Hessian by stochastic Lanczos quadrature (SLQ, as in PyHessian and
Ghorbani et al. 2019). For a random unit vector v, m Lanczos steps from v give the tridiagonal T; its
eigenvalues theta_i (nodes) with weights tau_i = (first entry of T's i-th eigenvector)^2 are the Gauss
quadrature rule of the measure sum_j (v . u_j)^2 delta(t - lambda_j), whose expectation over v is the
eigenvalue density (1/n) sum_j delta(t - lambda_j). Averaging over ``runs`` vectors and smoothing each
node with a Gaussian of width ``sigma`` gives a density that integrates to 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from .. import _core
from .eigen import _check_int, breakdown_tolerance
from .lanczos import lanczos, ritz_pairs
from .operator import HessianOperator, rademacher_vector, random_vector

__all__ = ["SpectralDensity", "spectral_density"]


@dataclass
class SpectralDensity:
    """What ``spectral_density`` returns; unpacks as ``grid, density = ...``.

    ``grid`` (grid_points,) and ``density`` (grid_points,): the smoothed density on an even grid that
    reaches 5 sigma beyond the outermost nodes. ``nodes`` and ``weights`` (runs * m,): the quadrature
    rule itself (the weights sum to 1). ``sigma``: the Gaussian width used.
    """
    grid: np.ndarray
    density: np.ndarray
    nodes: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    weights: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    sigma: float = math.nan

    def __iter__(self):
        return iter((self.grid, self.density))


def spectral_density(closure: Callable, params: Any, iterations: int = 100, runs: int = 1, *,
                     grid_points: int = 1000, sigma: Optional[float] = None,
                     generator: Optional[_core.Generator] = None) -> SpectralDensity:
    """The Hessian's eigenvalue density by stochastic Lanczos quadrature (see the module docstring).

    ``closure``/``params`` as in ``top_eigenvalues``. ``iterations``: Lanczos steps per run (at most the
    number of parameters n; with n steps the nodes are the exact eigenvalues); ``runs``: random start
    vectors (Rademacher, from ``generator``) averaged; ``sigma``: the smoothing width (default 1% of the
    spread of the nodes). Returns a :class:`SpectralDensity` (``grid, density = ...``).
    """
    caller = "spectral_density"
    iterations = _check_int(caller, "iterations", iterations, 1)
    runs = _check_int(caller, "runs", runs, 1)
    grid_points = _check_int(caller, "grid_points", grid_points, 2)
    if sigma is not None and (isinstance(sigma, bool) or not isinstance(sigma, (int, float))
                              or not (sigma > 0 and math.isfinite(sigma))):
        raise ValueError(f"{caller}: sigma must be a positive number (or None for 1% of the spread), got {sigma!r}")
    op = HessianOperator(closure, params, caller)
    n = op.size
    nodes, weights = [], []
    for _ in range(runs):
        run = lanczos(op.matvec, n, min(iterations, n), rademacher_vector(n, generator),
                      lambda: random_vector(n, generator), breakdown_tolerance(op))
        theta, s = ritz_pairs(run.alphas, run.betas)
        nodes.append(theta)
        weights.append(s[0, :] ** 2 / runs)
    nodes, weights = np.concatenate(nodes), np.concatenate(weights)
    spread = float(nodes.max() - nodes.min())
    if sigma is None:
        sigma = 0.01 * spread if spread > 0 else 0.01 * max(abs(float(nodes.max())), 1.0)
    grid = np.linspace(nodes.min() - 5 * sigma, nodes.max() + 5 * sigma, grid_points)
    gauss = np.exp(-0.5 * ((grid[:, None] - nodes[None, :]) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
    return SpectralDensity(grid=grid, density=gauss @ weights, nodes=nodes, weights=weights, sigma=float(sigma))
