"""Newton's method, x <- x - eta * H(x)^-1 grad f(x), with the Hessian from the tape (or hess=).
With eta = 1 it converges quadratically near a minimum where H is positive definite; on a
nonconvex f it heads for any stationary point (the chapter's x * cos(c x) example), which a
smaller eta (damping) can tame."""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from .derivatives import Objective
from .result import OptimizeResult
from .run import Run, check_rate

__all__ = ["newton", "newton_direction"]


def newton_direction(g: np.ndarray, h: np.ndarray) -> Optional[np.ndarray]:
    """H^-1 g for a gradient (n,) and Hessian (n, n) (g / h when n = 1); None when H is singular."""
    if g.size == 1:
        return None if h[0, 0] == 0 else g / h[0, 0]
    try:
        return np.linalg.solve(h, g)  # a small dense solve: the Hessians here are n x n with n small
    except np.linalg.LinAlgError:
        return None


def newton(f: Callable, x0, eta: float = 1.0, steps: Optional[int] = None, tol: Optional[float] = None, *,
           grad: Optional[Callable] = None, hess: Optional[Callable] = None,
           max_norm: Optional[float] = None) -> OptimizeResult:
    """Minimise ``f`` by (damped) Newton steps x <- x - eta * H(x)^-1 grad f(x).

    ``f``, ``x0``, ``grad``, ``steps``, ``tol`` and the result are as in ``gd``; ``hess`` (x -> an
    (n, n) matrix, one number for a scalar problem) replaces the Hessian from the tape. A singular
    Hessian stops the run with a RuntimeWarning (and ``reason`` saying so). Each step solves an
    n x n linear system, so this is for problems with a few hundred coordinates at most.
    """
    eta = check_rate(eta, "eta", "newton")
    objective = Objective(f, x0, "newton", grad=grad, hess=hess)
    run = Run("newton", objective, steps=steps, tol=tol, max_norm=max_norm, rate_name="eta",
              advice=f"try damping with a smaller eta (e.g. eta={eta / 2:g}) or start closer to the minimum")
    x = objective.x0
    fx, g = objective.value_and_grad(x)
    run.start(x, fx, g)
    for step in run.steps():
        direction = newton_direction(g, objective.hessian(x))
        if direction is None:
            run.stop(step, "the Hessian is singular here, so the Newton step is undefined; "
                           "start elsewhere or use gd / preconditioned_gd")
            break
        x = x - eta * direction
        if run.blew_up(step, x, eta):
            break
        fx, g = objective.value_and_grad(x)
        run.record(step, x, fx, eta, g)
    return run.result()
