"""Nonlinear conjugate gradient: search along d_k = -g_k + beta_k d_{k-1}, with beta from
Fletcher-Reeves (|g_k|^2 / |g_{k-1}|^2) or Polak-Ribiere+ (max(0, g_k . (g_k - g_{k-1}) / |g_{k-1}|^2),
which restarts with steepest descent whenever the formula goes negative).

The step length along d: ``line_search="exact"`` takes alpha = -g.d / d.H.d, the exact minimiser
along d for a quadratic (H d is a Hessian-vector product from the tape: two backward passes, no
Hessian matrix); with it CG solves an n-dimensional positive-definite quadratic in at most n steps.
``"backtracking"`` uses the Armijo backtracking of gd_line_search from ``initial_step``. The
default ``"auto"`` tries the exact-for-quadratics step and keeps it when it satisfies the Armijo
condition (always, on a convex quadratic), otherwise backtracks from it, or from ``initial_step``
where the curvature d.H.d is not positive. A direction that is not a descent direction is replaced
by -g (a restart).
"""
from __future__ import annotations

import math
from typing import Callable, Optional

import numpy as np

from .derivatives import Objective
from .line_search import armijo_holds, backtracking, check_line_search_args, stall_message
from .result import OptimizeResult
from .run import Run

__all__ = ["conjugate_gradient"]

VARIANTS = ("fletcher-reeves", "polak-ribiere")
LINE_SEARCHES = ("auto", "exact", "backtracking")


def _beta(variant: str, g_new: np.ndarray, g_old: np.ndarray) -> float:
    old = float(g_old @ g_old)
    if old == 0:
        return 0.0
    if variant == "fletcher-reeves":
        return float(g_new @ g_new) / old
    return max(0.0, float(g_new @ (g_new - g_old)) / old)


def conjugate_gradient(f: Callable, x0, variant: str = "fletcher-reeves", steps: Optional[int] = None,
                       tol: Optional[float] = None, *, line_search: str = "auto", initial_step: float = 1.0,
                       c: float = 1e-4, shrink: float = 0.5, grad: Optional[Callable] = None,
                       hess: Optional[Callable] = None, max_norm: Optional[float] = None) -> OptimizeResult:
    """Minimise ``f`` by nonlinear conjugate gradient (``variant`` 'fletcher-reeves' or 'polak-ribiere').

    ``line_search`` is 'auto', 'exact' or 'backtracking' (see the module docstring); ``hess`` (x -> an
    (n, n) matrix) replaces the tape's Hessian-vector products. ``trace.lr`` holds the step length
    along each search direction. Other arguments and the result as in ``gd``.
    """
    method = "conjugate_gradient"
    if variant not in VARIANTS:
        raise ValueError(f"{method}: variant must be one of {VARIANTS}, got {variant!r}")
    if line_search not in LINE_SEARCHES:
        raise ValueError(f"{method}: line_search must be one of {LINE_SEARCHES}, got {line_search!r}")
    initial_step, c, shrink = check_line_search_args(method, initial_step, c, shrink)
    objective = Objective(f, x0, method, grad=grad, hess=hess)
    run = Run(method, objective, steps=steps, tol=tol, max_norm=max_norm, rate_name="step size",
              advice="f may be unbounded below")
    x = objective.x0
    fx, g = objective.value_and_grad(x)
    run.start(x, fx, g)
    d = -g
    for step in run.steps():
        if float(g @ d) >= 0:  # not a descent direction (possible with Fletcher-Reeves off quadratics)
            d = -g
        alpha = None
        if line_search != "backtracking":
            curvature = float(d @ objective.hvp(x, d))
            if curvature > 0:
                alpha = -float(g @ d) / curvature
            elif line_search == "exact" and float(d @ d) > 0:
                run.stop(step, f"the curvature d.H.d = {curvature:.3g} along the search direction is not "
                               "positive, so the exact line search has no minimiser; use line_search='auto'")
                break
        if line_search == "backtracking" or alpha is None:
            alpha = backtracking(objective.value, x, fx, g, d, initial_step, c, shrink)
        elif line_search == "auto":
            f_trial = objective.value(x + alpha * d)
            if not (math.isfinite(f_trial) and armijo_holds(f_trial, fx, alpha, float(g @ d), c)):
                alpha = backtracking(objective.value, x, fx, g, d, alpha * shrink, c, shrink)
        if alpha is None:
            run.stop(step, stall_message(g))
            break
        x = x + alpha * d
        if run.blew_up(step, x, alpha):
            break
        fx, g_new = objective.value_and_grad(x)
        d = -g_new + _beta(variant, g_new, g) * d
        g = g_new
        run.record(step, x, fx, alpha, g)
    return run.result()
