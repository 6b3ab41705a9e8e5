"""The Hessian of a loss as a linear operator on flat vectors, built from the tape and never as a matrix.

``HessianOperator(closure, params)`` calls ``closure()`` once, records the gradient with
``create_graph=True`` and keeps that graph: each ``matvec(v)`` is then one more backward pass through
the recorded gradient (a double-backward Hessian-vector product, as PyHessian does with torch). The
parameters are seen as one flat vector (their elements in order, each flattened row-major); the
algorithms above (Lanczos, Hutchinson) work on float64 numpy vectors of that length, which keeps their
orthogonalisation accurate when the model is float32. ``.grad`` of the parameters is never touched.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional

import numpy as np

from .. import _core
from .._core import Tensor
from ..autograd import grad
from ..grad_mode import enable_grad

__all__ = ["HessianOperator", "as_parameters", "random_vector", "rademacher_vector"]

_FLOAT_DTYPES = {"float32": np.float32, "float64": np.float64}


def as_parameters(params: Any, caller: str) -> list:
    """The tensors to differentiate with respect to, from a Module, a tensor or an iterable of tensors.

    Every one must be a floating-point tensor that requires grad, all of one dtype."""
    if hasattr(params, "parameters") and callable(params.parameters) and not isinstance(params, Tensor):
        params = params.parameters()
    if isinstance(params, Tensor):
        params = [params]
    try:
        items = list(params)
    except TypeError:
        raise TypeError(f"{caller}: params must be a tensor, a list of tensors or a Module, got "
                        f"{type(params).__name__}") from None
    if not items:
        raise ValueError(f"{caller}: params is empty; pass the tensors the loss depends on (e.g. model.parameters())")
    for i, p in enumerate(items):
        if not isinstance(p, Tensor):
            raise TypeError(f"{caller}: params[{i}] must be a gdcore.Tensor, got {type(p).__name__}")
        if p.dtype.name not in _FLOAT_DTYPES:
            raise TypeError(f"{caller}: params[{i}] has dtype {p.dtype.name}; curvature needs float32 or float64 "
                            "parameters")
        if not p.requires_grad:
            raise ValueError(f"{caller}: params[{i}] (shape {tuple(p.shape)}) does not require grad, so the loss has "
                             "no derivative with respect to it; call p.requires_grad_() or leave it out of params")
    dtypes = sorted({p.dtype.name for p in items})
    if len(dtypes) > 1:
        raise TypeError(f"{caller}: params mix dtypes {' and '.join(dtypes)}; convert the model to one dtype "
                        "(e.g. model.double())")
    return items


def _scalar_loss(closure: Callable, caller: str) -> Tensor:
    if not callable(closure):
        raise TypeError(f"{caller}: closure must be a function that returns the loss, got {type(closure).__name__}")
    with enable_grad():
        loss = closure()
    if not isinstance(loss, Tensor):
        raise TypeError(f"{caller}: closure() must return the loss as a gdcore.Tensor, got {type(loss).__name__}")
    if loss.numel() != 1:
        raise ValueError(f"{caller}: closure() must return a scalar loss, got a tensor of shape {tuple(loss.shape)}; "
                         "reduce it with .mean() or .sum()")
    value = float(loss.item())
    if not math.isfinite(value):
        raise FloatingPointError(f"{caller}: the loss is {value}, so its Hessian is undefined; check the data and "
                                 "the parameters for nan/inf (a diverged run?)")
    return loss


def random_vector(n: int, generator: Optional[_core.Generator]) -> np.ndarray:
    """A float64 standard-normal vector of length n from gdcore's generator (the default one when None)."""
    gen = generator if generator is not None else _core.default_generator()
    return np.array(_core._randn([n], _core.dtype.float64, gen, False).numpy(), dtype=np.float64)


def rademacher_vector(n: int, generator: Optional[_core.Generator]) -> np.ndarray:
    """A float64 vector of n independent +1/-1 signs, each with probability 1/2, from gdcore's generator."""
    gen = generator if generator is not None else _core.default_generator()
    bits = _core._randint(0, 2, [n], _core.dtype.int64, gen).numpy()
    return 2.0 * bits.astype(np.float64) - 1.0


class HessianOperator:
    """H v for the loss ``closure()`` at ``params`` (see the module docstring).

    Attributes: ``params`` (the list of tensors), ``size`` (n, their total number of elements),
    ``loss`` (the loss value as a float), ``matvecs`` (how many products were taken so far).
    """

    def __init__(self, closure: Callable, params: Any, caller: str):
        self.caller = caller
        self.params = as_parameters(params, caller)
        self.size = sum(p.numel() for p in self.params)
        self.dtype = _FLOAT_DTYPES[self.params[0].dtype.name]
        self.matvecs = 0
        loss = _scalar_loss(closure, caller)
        self.loss = float(loss.item())
        self._flat_grad = None          # stays None when the loss is linear in params (H = 0)
        if loss.requires_grad:
            grads = grad(loss, self.params, create_graph=True, allow_unused=True)
            if any(g is not None and g.requires_grad for g in grads):
                self._flat_grad = _core.cat([g.reshape(-1) if g is not None else
                                             _core._full([p.numel()], 0.0, p.dtype, False)
                                             for g, p in zip(grads, self.params)], 0)

    def matvec(self, v: np.ndarray) -> np.ndarray:
        """H v as a float64 array of length n (v: a float64 array of length n)."""
        self.matvecs += 1
        if self._flat_grad is None:
            return np.zeros(self.size)
        vt = _core.from_numpy(np.ascontiguousarray(v, dtype=self.dtype))
        with enable_grad():
            products = grad((self._flat_grad * vt).sum(), self.params, retain_graph=True, allow_unused=True)
        out = np.empty(self.size)
        start = 0
        for h, p in zip(products, self.params):
            stop = start + p.numel()
            out[start:stop] = 0.0 if h is None else h.detach().numpy().reshape(-1)
            start = stop
        if not np.all(np.isfinite(out)):
            raise FloatingPointError(f"{self.caller}: a Hessian-vector product came out non-finite (nan/inf) after "
                                     f"{self.matvecs} products, though the loss is {self.loss:g}; the second "
                                     "derivatives overflow or are undefined at these parameters (e.g. sqrt or log at "
                                     "0, or float32 overflow: try model.double())")
        return out

    def to_tensors(self, v: np.ndarray) -> list:
        """A flat vector as a list of tensors shaped (and typed) like ``params``."""
        out, start = [], 0
        for p in self.params:
            stop = start + p.numel()
            piece = np.ascontiguousarray(v[start:stop].reshape(tuple(p.shape)), dtype=self.dtype)
            out.append(_core.from_numpy(piece))
            start = stop
        return out

    def from_tensors(self, tensors: Any, what: str) -> np.ndarray:
        """The flat float64 vector of a list of tensors shaped like ``params`` (e.g. a starting vector)."""
        items = [tensors] if isinstance(tensors, Tensor) else list(tensors)
        if len(items) != len(self.params):
            raise ValueError(f"{self.caller}: {what} has {len(items)} tensors but params has {len(self.params)}")
        for i, (t, p) in enumerate(zip(items, self.params)):
            if not isinstance(t, Tensor) or tuple(t.shape) != tuple(p.shape):
                got = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
                raise ValueError(f"{self.caller}: {what}[{i}] must be a tensor of shape {tuple(p.shape)} (like "
                                 f"params[{i}]), got {got}")
        return np.concatenate([np.asarray(t.detach().numpy(), dtype=np.float64).reshape(-1) for t in items])
