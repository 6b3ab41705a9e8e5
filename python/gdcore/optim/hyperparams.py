"""Checks for optimizer hyperparameters, shared by every optimizer in gdcore.optim.

Each check raises with the optimizer's name, the option, the value it got and the range
it wants, so a typo in a constructor call or a param group is caught before a step runs.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["check_number", "check_flag", "check_betas"]


def _range_text(low: float, high: float, high_open: bool) -> str:
    hi = "inf)" if math.isinf(high) else f"{high:g}{')' if high_open else ']'}"
    return f"[{low:g}, {hi}"


def check_number(opt: str, name: str, value, low: float = 0.0, high: float = math.inf, high_open: bool = False) -> float:
    """Return ``value`` as a float after checking it is a finite real number in [low, high] (or [low, high))."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{opt}: {name} must be a real number, got {value!r} of type {type(value).__name__}")
    v = float(value)
    ok = math.isfinite(v) and v >= low and (v < high if high_open else v <= high)
    if not ok:
        raise ValueError(f"{opt}: invalid {name}={value!r}; it must be a finite number in "
                         f"{_range_text(low, high, high_open)}")
    return v


def check_flag(opt: str, name: str, value) -> bool:
    """Return ``value`` after checking it is a bool (numpy bools included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{opt}: {name} must be True or False, got {value!r}")
    return bool(value)


def check_betas(opt: str, betas) -> tuple[float, float]:
    """Return ``betas`` as a pair of floats, each in [0, 1)."""
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
        raise TypeError(f"{opt}: betas must be a pair (beta1, beta2), got {betas!r}")
    return (check_number(opt, "betas[0]", betas[0], 0.0, 1.0, high_open=True),
            check_number(opt, "betas[1]", betas[1], 0.0, 1.0, high_open=True))
