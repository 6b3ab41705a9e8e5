"""The objective as the optimizers see it: f evaluated at float64 numpy points, with its gradient,
Hessian and Hessian-vector products taken from the gdcore tape (gdcore.autograd), or from the
user's own ``grad=`` / ``hess=`` callables when given (the chapter writes them by hand).

f, grad and hess all receive the point as a float64 gdcore tensor: 0-d for a scalar problem (x0 a
number), shape (n,) for an n-D one. They may return gdcore tensors, numbers, numpy arrays or
(nested) lists/tuples of those; grad must give n values, hess an (n, n) matrix (one number for a
scalar problem). Inside, every point is a numpy array of shape (n,), n = 1 for a scalar problem.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable, Optional

import numpy as np

from .. import _core
from .._core import Tensor
from ..autograd import functional as autograd
from ..grad_mode import enable_grad, no_grad

__all__ = ["Objective"]

_float64 = _core.dtype.float64


def _as_array(value: Any) -> np.ndarray:
    """A float64 numpy copy of a tensor, number, array or nested sequence of those."""
    if isinstance(value, Tensor):
        return np.array(value.detach().numpy(), dtype=np.float64)
    if isinstance(value, (list, tuple)):
        return np.array([_as_array(v) for v in value], dtype=np.float64)
    return np.array(value, dtype=np.float64)


def _initial_point(x0: Any, method: str) -> tuple[bool, np.ndarray]:
    """(is the problem scalar, x0 as a float64 array of shape (n,))."""
    if isinstance(x0, bool):
        raise TypeError(f"{method}: x0 must be a number or a 1-D tensor/list, got a bool")
    if isinstance(x0, numbers.Real):
        scalar, x = True, np.array([float(x0)])
    else:
        try:
            x = _as_array(x0)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{method}: x0 must be a number or a 1-D tensor/list of numbers, "
                            f"got {type(x0).__name__} ({e})") from None
        scalar = x.ndim == 0
        if x.ndim > 1:
            raise ValueError(f"{method}: x0 must be a number or a 1-D tensor/list, got shape {x.shape}; "
                             "flatten it and reshape inside f")
        x = x.reshape(-1)
        if x.size == 0:
            raise ValueError(f"{method}: x0 is empty; give at least one coordinate")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{method}: x0 must be finite, got {x0!r}")
    return scalar, x


class Objective:
    """f with its derivatives, for points given as float64 arrays of shape (n,)."""

    def __init__(self, f: Callable, x0: Any, method: str, grad: Optional[Callable] = None,
                 hess: Optional[Callable] = None):
        for name, fn in (("f", f), ("grad", grad), ("hess", hess)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{method}: {name} must be a function, got {type(fn).__name__}")
        self.f, self.user_grad, self.user_hess, self.method = f, grad, hess, method
        self.scalar, self.x0 = _initial_point(x0, method)
        self.n = self.x0.size

    # -- conversions -------------------------------------------------------------------------
    def point(self, x: np.ndarray) -> Tensor:
        """x as a fresh float64 tensor: 0-d for a scalar problem, (n,) otherwise."""
        if self.scalar:
            return _core._full([], float(x[0]), _float64, False)
        return _core._tensor(np.ascontiguousarray(x, dtype=np.float64), _float64, False)

    def output(self, x: np.ndarray):
        """x as the user sees it in results: a float for a scalar problem, else an array copy."""
        return float(x[0]) if self.scalar else np.array(x, dtype=np.float64)

    def _scalar_value(self, y: Any) -> float:
        if isinstance(y, Tensor):
            if y.numel() != 1:
                raise ValueError(f"{self.method}: f must return one number, got a tensor of shape "
                                 f"{tuple(y.shape)}; reduce it with .sum() or .mean()")
            return float(y.item())
        try:
            return float(y)
        except (TypeError, ValueError):
            raise TypeError(f"{self.method}: f must return a number or a one-element tensor, "
                            f"got {type(y).__name__}") from None

    def _vector(self, value: Any, name: str) -> np.ndarray:
        g = _as_array(value)
        if g.size != self.n:
            raise ValueError(f"{self.method}: {name} must give {self.n} value(s), one per coordinate of x, "
                             f"got shape {g.shape}")
        return g.reshape(self.n)

    # -- evaluations ---------------------------------------------------------------------------
    def value(self, x: np.ndarray) -> float:
        """f(x) as a float, without recording a graph."""
        with no_grad():
            return self._scalar_value(self.f(self.point(x)))

    def value_and_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """(f(x), the gradient of f at x as an array of shape (n,))."""
        if self.user_grad is not None:
            with no_grad():
                return self.value(x), self._vector(self.user_grad(self.point(x)), "grad")
        t = self.point(x).requires_grad_()
        with enable_grad():
            y = self.f(t)
        fx = self._scalar_value(y)
        if not isinstance(y, Tensor) or not y.requires_grad:
            raise TypeError(f"{self.method}: f's result is not connected to x on the gdcore tape, so it has no "
                            "gradient; write f with gdcore ops (tensor arithmetic, gdcore.cos, ...) or pass grad=")
        (g,) = autograd.grad(y.reshape(()), t, allow_unused=True)
        return fx, (np.zeros(self.n) if g is None else _as_array(g).reshape(self.n))

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """The Hessian of f at x as an (n, n) array (from hess= or from the tape)."""
        if self.user_hess is not None:
            with no_grad():
                h = _as_array(self.user_hess(self.point(x)))
            if h.size != self.n * self.n:
                raise ValueError(f"{self.method}: hess must give an ({self.n}, {self.n}) matrix, got shape {h.shape}")
            return h.reshape(self.n, self.n)
        with enable_grad():
            h = autograd.hessian(self._scalar_f, self.point(x))
        return _as_array(h).reshape(self.n, self.n)

    def hvp(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """The Hessian-vector product H(x) v, shape (n,), without forming H when it comes from the tape."""
        if self.user_hess is not None:
            return self.hessian(x) @ v
        with enable_grad():
            hv = autograd.hvp(self._scalar_f, self.point(x), self.point(v))
        return _as_array(hv).reshape(self.n)

    def _scalar_f(self, t: Tensor) -> Tensor:
        """f with its result checked and reshaped to 0-d, for the autograd helpers."""
        y = self.f(t)
        self._scalar_value(y.detach() if isinstance(y, Tensor) else y)
        if not isinstance(y, Tensor) or not y.requires_grad:
            raise TypeError(f"{self.method}: f's result is not connected to x on the gdcore tape, so it has no "
                            "Hessian; write f with gdcore ops or pass hess=")
        return y.reshape(())
