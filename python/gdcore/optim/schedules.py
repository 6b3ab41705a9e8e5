"""Learning-rate schedules as plain functions of the step t (0-based), shared by
gdcore.optim.lr_scheduler (epoch-driven classes) and gdcore.optimize (the classic
toolkit): one formula, one place."""
from __future__ import annotations

import bisect
import math
from typing import Callable, Sequence

Schedule = Callable[[int], float]

__all__ = ["Schedule", "constant", "piecewise_constant", "step", "multistep", "exponential", "exponential_decay",
           "polynomial", "cosine"]


def _check_lr(lr: float, name: str) -> None:
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"{name}: the learning rate must be a positive finite number, got {lr!r}")


def _check_factor(value: float, what: str, name: str, low: float = -math.inf) -> None:
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value) and value >= low):
        bound = "" if low == -math.inf else f" >= {low:g}"
        raise ValueError(f"{name}: {what} must be a finite number{bound}, got {value!r}")


def constant(lr: float) -> Schedule:
    """eta(t) = lr."""
    _check_lr(lr, "constant")
    return lambda t: lr


def piecewise_constant(boundaries: Sequence[int], values: Sequence[float]) -> Schedule:
    """eta(t) = values[i] for boundaries[i-1] <= t < boundaries[i] (len(values) == len(boundaries) + 1)."""
    if len(values) != len(boundaries) + 1:
        raise ValueError(f"piecewise_constant: need len(values) == len(boundaries) + 1, got {len(values)} values "
                         f"and {len(boundaries)} boundaries")
    if list(boundaries) != sorted(boundaries):
        raise ValueError(f"piecewise_constant: boundaries must be increasing, got {list(boundaries)}")
    b, v = list(boundaries), list(values)
    return lambda t: v[bisect.bisect_right(b, t)]


def step(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    """eta(t) = lr * gamma ** (t // step_size) (StepLR)."""
    _check_lr(lr, "step")
    if step_size <= 0:
        raise ValueError(f"step: step_size must be positive, got {step_size}")
    _check_factor(gamma, "gamma", "step", 0.0)
    return lambda t: lr * gamma ** (t // step_size)


def multistep(lr: float, milestones: Sequence[int], gamma: float = 0.1) -> Schedule:
    """eta(t) = lr * gamma ** (number of milestones <= t) (MultiStepLR)."""
    _check_lr(lr, "multistep")
    _check_factor(gamma, "gamma", "multistep", 0.0)
    m = sorted(milestones)
    return lambda t: lr * gamma ** bisect.bisect_right(m, t)


def exponential(lr: float, gamma: float) -> Schedule:
    """eta(t) = lr * gamma ** t (ExponentialLR)."""
    _check_lr(lr, "exponential")
    _check_factor(gamma, "gamma", "exponential", 0.0)
    return lambda t: lr * gamma ** t


def exponential_decay(lr: float, lam: float) -> Schedule:
    """eta(t) = lr * exp(-lam * t), the chapter's exponential schedule."""
    _check_lr(lr, "exponential_decay")
    _check_factor(lam, "lam", "exponential_decay")
    return lambda t: lr * math.exp(-lam * t)


def polynomial(lr: float, alpha: float = 0.5, beta: float = 1.0) -> Schedule:
    """eta(t) = lr * (beta * t + 1) ** -alpha, the chapter's polynomial schedule."""
    _check_lr(lr, "polynomial")
    _check_factor(alpha, "alpha", "polynomial")
    _check_factor(beta, "beta", "polynomial", 0.0)
    return lambda t: lr * (beta * t + 1) ** (-alpha)


def cosine(lr: float, T_max: int, eta_min: float = 0.0) -> Schedule:
    """eta(t) = eta_min + (lr - eta_min) * (1 + cos(pi * t / T_max)) / 2 (CosineAnnealingLR).

    Past T_max the curve goes on along the cosine (back up towards lr), as torch's does.
    """
    _check_factor(lr, "the learning rate", "cosine", 0.0)  # 0 allowed: a frozen param group
    if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max <= 0:
        raise ValueError(f"cosine: T_max must be a positive integer, got {T_max!r}")
    _check_factor(eta_min, "eta_min", "cosine", 0.0)
    return lambda t: eta_min + (lr - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2
