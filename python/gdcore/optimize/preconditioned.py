"""Gradient descent preconditioned by the Hessian's diagonal, x <- x - lr * diag(H)^-1 grad f(x):
each coordinate gets its own step, scaled by its own curvature, which fixes badly scaled
(axis-aligned ill-conditioned) problems at the cost of n second derivatives per step."""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from .derivatives import Objective
from .result import OptimizeResult
from .run import Run, check_rate

__all__ = ["preconditioned_gd"]


def preconditioned_gd(f: Callable, x0, lr: float, steps: Optional[int] = None, tol: Optional[float] = None, *,
                      grad: Optional[Callable] = None, hess: Optional[Callable] = None,
                      max_norm: Optional[float] = None) -> OptimizeResult:
    """Minimise ``f`` by x <- x - lr * g / |diag(H)|, coordinate by coordinate.

    The absolute value keeps every step a descent direction where f is not convex (a negative
    curvature would otherwise send that coordinate uphill). A zero on the diagonal stops the run
    with a RuntimeWarning. Arguments and result as in ``newton`` (``lr`` plays eta's role; lr = 1
    solves a separable quadratic in one step).
    """
    lr = check_rate(lr, "lr", "preconditioned_gd")
    objective = Objective(f, x0, "preconditioned_gd", grad=grad, hess=hess)
    run = Run("preconditioned_gd", objective, steps=steps, tol=tol, max_norm=max_norm, rate_name="lr")
    x = objective.x0
    fx, g = objective.value_and_grad(x)
    run.start(x, fx, g)
    for step in run.steps():
        scale = np.abs(np.diag(objective.hessian(x)))
        if np.any(scale == 0):
            zero = [int(i) for i in np.flatnonzero(scale == 0)]
            run.stop(step, f"the Hessian's diagonal is 0 at coordinate(s) {zero}, so diag(H)^-1 is undefined; "
                           "use gd there")
            break
        x = x - lr * g / scale
        if run.blew_up(step, x, lr):
            break
        fx, g = objective.value_and_grad(x)
        run.record(step, x, fx, lr, g)
    return run.result()
