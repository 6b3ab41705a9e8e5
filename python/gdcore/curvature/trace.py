"""The trace of a loss's Hessian by Hutchinson's estimator: for random sign vectors v (each entry +1 or -1
with probability 1/2, from gdcore's generator), E[v^T H v] = trace(H). The mean of ``samples`` such
products is the estimate; their standard deviation over sqrt(samples) is its standard error (the
variance of one sample is 2 * sum_{i != j} H_ij^2, so a diagonal Hessian is estimated exactly).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from .. import _core
from .eigen import _check_int
from .operator import HessianOperator, rademacher_vector

__all__ = ["TraceEstimate", "hessian_trace"]


@dataclass
class TraceEstimate:
    """What ``hessian_trace`` returns; unpacks as ``trace, stderr = ...``. ``values``: the samples v^T H v."""
    trace: float
    stderr: float
    values: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))

    def __iter__(self):
        return iter((self.trace, self.stderr))


def hessian_trace(closure: Callable, params: Any, samples: int = 100, *,
                  generator: Optional[_core.Generator] = None) -> TraceEstimate:
    """Hutchinson's estimate of trace(H) for the Hessian of ``closure()`` with respect to ``params``.

    ``closure``/``params`` as in ``top_eigenvalues``; ``samples`` (>= 2) random sign vectors, one
    Hessian-vector product each. Returns a :class:`TraceEstimate` (estimate and standard error).
    """
    samples = _check_int("hessian_trace", "samples", samples, 2)
    op = HessianOperator(closure, params, "hessian_trace")
    values = np.empty(samples)
    for i in range(samples):
        v = rademacher_vector(op.size, generator)
        values[i] = float(v @ op.matvec(v))
    return TraceEstimate(trace=float(values.mean()), stderr=float(values.std(ddof=1) / math.sqrt(samples)),
                         values=values)
