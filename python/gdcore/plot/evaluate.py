"""f on many points at once, for drawing it. The functions given to gdcore.optimize take one point
(a 0-d tensor for 1-D problems, a (2,) tensor for 2-D ones). Many of them (x ** 2, x[0] ** 2 + 2 * x[1] ** 2)
also work elementwise on a whole grid, which is much faster; that is tried first and kept only when
it agrees with point-by-point evaluation on a few sample points, otherwise f is called point by point."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import _core
from .._core import Tensor
from ..grad_mode import no_grad

__all__ = ["evaluate_on_points"]

_float64 = _core.dtype.float64


def _to_numpy(value) -> np.ndarray:
    if isinstance(value, Tensor):
        return np.array(value.detach().numpy(), dtype=np.float64)
    return np.array(value, dtype=np.float64)


def _one(f: Callable, point: np.ndarray) -> float:
    t = (_core._full([], float(point[0]), _float64, False) if point.size == 1
         else _core._tensor(np.ascontiguousarray(point), _float64, False))
    value = _to_numpy(f(t))
    if value.size != 1:
        raise ValueError(f"f must return one number per point, got shape {value.shape}")
    return float(value.reshape(()))


def _vectorised(f: Callable, points: np.ndarray):
    """f on all points in one call (points as a (N,) or (d, N) tensor), or None if f does not do that."""
    batch = points[:, 0] if points.shape[1] == 1 else points.T
    try:
        values = _to_numpy(f(_core._tensor(np.ascontiguousarray(batch), _float64, False)))
    except Exception:  # noqa: BLE001  (any failure just means: evaluate point by point)
        return None
    if values.shape != (points.shape[0],):
        return None
    samples = np.unique(np.linspace(0, points.shape[0] - 1, 5).astype(int))
    expected = np.array([_one(f, points[i]) for i in samples])
    if not np.allclose(values[samples], expected, rtol=1e-9, atol=1e-12, equal_nan=True):
        return None
    return values


def evaluate_on_points(f: Callable, points: np.ndarray) -> np.ndarray:
    """f at each row of ``points`` (shape (N, d), d = 1 or 2), as a float64 array of shape (N,)."""
    points = np.asarray(points, dtype=np.float64)
    with no_grad():
        values = _vectorised(f, points)
        if values is None:
            values = np.array([_one(f, p) for p in points])
    return values
