"""What every optimizer in gdcore.optimize returns: the final point and value, why the run
stopped, and the whole trace of iterates (as numpy arrays, ready for gdcore.plot)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import numpy as np

__all__ = ["OptimizeResult", "Trace"]


@dataclass
class Trace:
    """The path of one run.

    ``x``: the iterates x_0 .. x_k, shape (k+1,) for a scalar problem or (k+1, n) for an n-D one;
    ``fx``: f at each iterate, shape (k+1,); ``lr``: the step size used by each update, shape (k,)
    (the learning rate, Newton's eta, or the step length a line search accepted).
    """

    x: np.ndarray
    fx: np.ndarray
    lr: np.ndarray


@dataclass
class OptimizeResult:
    """The outcome of a gdcore.optimize run.

    ``x`` is the last iterate (a float for a scalar problem, a float64 array of shape (n,) otherwise),
    ``fx`` = f(x), ``iterations`` the number of updates made. ``converged`` is True when every
    |gradient| <= tol (always False when no tol was given), ``diverged`` is True when an iterate or f
    became non-finite or exploded, and ``reason`` says in words why the run stopped.
    """

    x: Union[float, np.ndarray]
    fx: float
    iterations: int
    trace: Trace
    converged: bool
    diverged: bool
    reason: str
    method: str = field(default="")

    def __repr__(self) -> str:
        x = f"{self.x:.6g}" if isinstance(self.x, float) else np.array2string(self.x, precision=6, threshold=8)
        return (f"OptimizeResult(method={self.method!r}, x={x}, fx={self.fx:.6g}, iterations={self.iterations}, "
                f"converged={self.converged}, diverged={self.diverged}, reason={self.reason!r})")
