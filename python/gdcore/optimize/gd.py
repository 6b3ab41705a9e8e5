"""Plain gradient descent, x <- x - lr * grad f(x): the chapter's first algorithm, for a scalar x
(f(x) = x^2, x * cos(c x)) or a vector x (f(x1, x2) = x1^2 + 2 x2^2)."""
from __future__ import annotations

from typing import Callable, Optional

from .derivatives import Objective
from .result import OptimizeResult
from .run import Run, check_rate

__all__ = ["gd"]


def gd(f: Callable, x0, lr: float, steps: Optional[int] = None, tol: Optional[float] = None, *,
       grad: Optional[Callable] = None, max_norm: Optional[float] = None) -> OptimizeResult:
    """Minimise ``f`` by gradient descent with a constant learning rate ``lr``.

    ``f`` maps a float64 tensor x (0-d when ``x0`` is a number, shape (n,) when ``x0`` is a 1-D
    tensor/list) to one number, written with gdcore ops so the tape gives its gradient; or pass
    ``grad`` (x -> n values). Stops after ``steps`` updates, or once every |gradient| <= ``tol``
    (at most 10000 updates when only tol is given), or when the iterates diverge (see
    ``gdcore.optimize.run``: a RuntimeWarning names the step and lr). Returns an OptimizeResult
    whose ``trace.x`` has shape (k+1,) or (k+1, n).

    >>> f"{gd(lambda x: x ** 2, 10.0, lr=0.2, steps=10).x:f}"   # the chapter's `epoch 10, x: 0.060466`
    '0.060466'
    """
    lr = check_rate(lr, "lr", "gd")
    objective = Objective(f, x0, "gd", grad=grad)
    run = Run("gd", objective, steps=steps, tol=tol, max_norm=max_norm, rate_name="lr")
    x = objective.x0
    fx, g = objective.value_and_grad(x)
    run.start(x, fx, g)
    for step in run.steps():
        x = x - lr * g
        if run.blew_up(step, x, lr):
            break
        fx, g = objective.value_and_grad(x)
        run.record(step, x, fx, lr, g)
    return run.result()
