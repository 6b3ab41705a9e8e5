"""Stochastic gradient descent as the chapter simulates it: the exact gradient plus Gaussian noise
(x <- x - eta_t * (grad f(x) + noise * N(0, I))), with a constant learning rate or a schedule
eta_t (gdcore.optim.schedules: piecewise constant, exponential, polynomial, ...)."""
from __future__ import annotations

import math
import numbers
from typing import Callable, Optional

import numpy as np

from .. import _core
from .._core import Generator
from ..creation import randn
from .derivatives import Objective
from .result import OptimizeResult
from .run import Run, check_rate

__all__ = ["sgd"]


def _rate_at(schedule: Callable[[int], float], t: int) -> float:
    lr = schedule(t)
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"sgd: schedule({t}) gave {lr!r}; a schedule must return a positive finite learning rate")
    return float(lr)


def sgd(f: Callable, x0, lr: Optional[float] = None, noise: float = 1.0,
        schedule: Optional[Callable[[int], float]] = None, steps: Optional[int] = None,
        seed: Optional[int] = None, *, tol: Optional[float] = None, grad: Optional[Callable] = None,
        max_norm: Optional[float] = None) -> OptimizeResult:
    """Minimise ``f`` with noisy gradients: g_t = grad f(x_t) + noise * z_t, z_t ~ N(0, I).

    The learning rate of update t (t = 0, 1, ...) is ``lr``, or ``schedule(t)`` when a schedule is
    given (e.g. ``gdcore.optim.schedules.exponential_decay(0.1, 0.1)``); pass one of the two, not
    both. The noise comes from ``gdcore.Generator(seed)``, so a fixed seed reproduces the run; with
    seed=None it comes from the global generator (``gdcore.manual_seed``). ``tol`` is checked on the
    exact gradient. ``f``, ``x0``, ``grad``, ``steps`` and the result are as in ``gd``;
    ``trace.lr`` holds the learning rate of every update.
    """
    if (lr is None) == (schedule is None):
        raise ValueError("sgd: pass lr= (a constant learning rate) or schedule= (a function t -> lr), exactly one; "
                         "a schedule from gdcore.optim.schedules already holds its initial rate")
    if lr is not None:
        lr = check_rate(lr, "lr", "sgd")
    elif not callable(schedule):
        raise TypeError(f"sgd: schedule must be a function t -> lr, got {type(schedule).__name__}")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"sgd: noise must be a non-negative finite number (the std of the gradient noise), "
                         f"got {noise!r}")
    generator = None
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"sgd: seed must be an integer or None, got {seed!r}")
        generator = Generator(int(seed))
    objective = Objective(f, x0, "sgd", grad=grad)
    run = Run("sgd", objective, steps=steps, tol=tol, max_norm=max_norm, rate_name="lr",
              advice=None if schedule is None else "try a schedule that starts lower")
    x = objective.x0
    fx, g = objective.value_and_grad(x)
    run.start(x, fx, g)
    for step in run.steps():
        rate = lr if schedule is None else _rate_at(schedule, step - 1)
        noisy = g
        if noise > 0:
            z = randn(objective.n, generator=generator, dtype=_core.dtype.float64).numpy()
            noisy = g + noise * np.asarray(z, dtype=np.float64)
        x = x - rate * noisy
        if run.blew_up(step, x, rate):
            break
        fx, g = objective.value_and_grad(x)
        run.record(step, x, fx, rate, g)
    return run.result()
