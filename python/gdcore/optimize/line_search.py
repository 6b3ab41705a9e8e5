"""Gradient descent with a backtracking line search: start each step at ``initial_step`` and halve
it (``shrink``) until the Armijo condition f(x + a d) <= f(x) + c * a * grad f(x) . d holds, so
every accepted step decreases f by at least a fixed fraction of what the slope promises. No
learning rate to tune. ``backtracking`` is shared with conjugate_gradient."""
from __future__ import annotations

import math
import numbers
from typing import Callable, Optional

import numpy as np

from .derivatives import Objective
from .result import OptimizeResult
from .run import Run, check_rate

__all__ = ["gd_line_search", "backtracking", "armijo_holds"]

MAX_BACKTRACKS = 60  # 0.5 ** 60 ~ 1e-18: below that the trial point equals x in float64


def armijo_holds(f_new: float, fx: float, alpha: float, slope: float, c: float) -> bool:
    """The Armijo (sufficient decrease) condition f(x + alpha d) <= f(x) + c * alpha * (grad f . d)."""
    return f_new <= fx + c * alpha * slope


def backtracking(value: Callable[[np.ndarray], float], x: np.ndarray, fx: float, g: np.ndarray, d: np.ndarray,
                 alpha: float, c: float = 1e-4, shrink: float = 0.5) -> Optional[float]:
    """The first alpha in alpha, alpha*shrink, alpha*shrink^2, ... meeting the Armijo condition along d.

    ``value`` is f on (n,) arrays, ``fx`` = f(x), ``g`` the gradient at x, ``d`` a descent direction
    (g . d < 0). Returns None when no step is accepted before the trial point stops moving.
    """
    slope = float(g @ d)
    for _ in range(MAX_BACKTRACKS):
        trial = x + alpha * d
        if np.array_equal(trial, x) and slope != 0:
            return None  # the step no longer changes x: float64 precision is exhausted
        f_new = value(trial)
        if math.isfinite(f_new) and armijo_holds(f_new, fx, alpha, slope, c):
            return alpha
        alpha *= shrink
    return None


def check_line_search_args(method: str, initial_step, c, shrink) -> tuple[float, float, float]:
    initial_step = check_rate(initial_step, "initial_step", method)
    for name, value in (("c", c), ("shrink", shrink)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
            raise ValueError(f"{method}: {name} must be a number strictly between 0 and 1, got {value!r}")
    return initial_step, float(c), float(shrink)


def stall_message(g: np.ndarray) -> str:
    return (f"no step along the search direction satisfies the Armijo condition (largest |gradient| "
            f"{np.max(np.abs(g)):.3g}): near a minimum this is the limit of float64 precision (pass tol= to stop "
            "earlier); far from one, check grad=")


def gd_line_search(f: Callable, x0, steps: Optional[int] = None, tol: Optional[float] = None, *,
                   initial_step: float = 1.0, c: float = 1e-4, shrink: float = 0.5,
                   grad: Optional[Callable] = None, max_norm: Optional[float] = None) -> OptimizeResult:
    """Minimise ``f`` by steepest descent, each step length found by backtracking (Armijo).

    Each update tries alpha = ``initial_step`` and multiplies it by ``shrink`` until
    f(x - alpha g) <= f(x) - c * alpha * |g|^2; ``trace.lr`` holds the accepted alphas. A run that
    cannot find such a step (the float64 limit near a minimum, or a wrong ``grad``) stops with a
    RuntimeWarning. Other arguments and the result as in ``gd``.
    """
    initial_step, c, shrink = check_line_search_args("gd_line_search", initial_step, c, shrink)
    objective = Objective(f, x0, "gd_line_search", grad=grad)
    run = Run("gd_line_search", objective, steps=steps, tol=tol, max_norm=max_norm, rate_name="step size",
              advice="f may be unbounded below")
    x = objective.x0
    fx, g = objective.value_and_grad(x)
    run.start(x, fx, g)
    for step in run.steps():
        alpha = backtracking(objective.value, x, fx, g, -g, initial_step, c, shrink)
        if alpha is None:
            run.stop(step, stall_message(g))
            break
        x = x - alpha * g
        if run.blew_up(step, x, alpha):
            break
        fx, g = objective.value_and_grad(x)
        run.record(step, x, fx, alpha, g)
    return run.result()
