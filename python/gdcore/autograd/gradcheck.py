"""Finite differences and gradcheck: the independent reference for every gradient
gdcore computes."""
from __future__ import annotations

from typing import Callable, Sequence, Union

import numpy as np

from .. import _core
from .._core import Tensor
from ..grad_mode import no_grad
from .functional import grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck when autodiff and finite differences disagree."""


def _inputs_list(inputs) -> list:
    return [inputs] if isinstance(inputs, Tensor) else list(inputs)


def _scalar(out) -> float:
    if isinstance(out, Tensor):
        if out.numel() != 1:
            raise ValueError(f"numerical_grad: f must return a scalar, got shape {tuple(out.shape)}")
        return out.item()
    return float(out)


def numerical_grad(f: Callable, inputs: Union[Tensor, Sequence[Tensor]], eps: float = 1e-6,
                   method: str = "central") -> list:
    """Finite-difference gradients of a scalar ``f(*inputs)``: one float64 numpy array of the
    input's shape per floating-point input, and None for an integer input (index tensors),
    which is passed through unchanged.

    ``method='central'`` uses (f(x+eps) - f(x-eps)) / 2eps (error O(eps^2));
    ``'forward'`` uses (f(x+eps) - f(x)) / eps (error O(eps)). Float inputs are evaluated in float64.
    """
    if method not in ("central", "forward"):
        raise ValueError(f"numerical_grad: method must be 'central' or 'forward', got {method!r}")
    if not eps > 0:
        raise ValueError(f"numerical_grad: eps must be positive, got {eps}")
    xs = [t.detach().double().clone() if t.is_floating_point() else t.detach() for t in _inputs_list(inputs)]
    grads = []
    with no_grad():
        base = _scalar(f(*xs)) if method == "forward" else 0.0
        for x in xs:
            if not x.is_floating_point():
                grads.append(None)
                continue
            arr = x.numpy()  # a view: editing it edits the tensor f sees
            g = np.zeros(arr.shape, dtype=np.float64)
            gflat = g.reshape(-1)
            for i, idx in enumerate(np.ndindex(*arr.shape)):
                old = arr[idx]
                arr[idx] = old + eps
                up = _scalar(f(*xs))
                if method == "central":
                    arr[idx] = old - eps
                    down = _scalar(f(*xs))
                    gflat[i] = (up - down) / (2 * eps)
                else:
                    gflat[i] = (up - base) / eps
                arr[idx] = old
            grads.append(g)
    return grads


def gradcheck(f: Callable, inputs: Union[Tensor, Sequence[Tensor]], eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, seed: int = 0) -> bool:
    """Compares autodiff gradients of ``f(*inputs)`` with central differences.

    Inputs that require grad are checked; they should be float64. A non-scalar output
    is reduced with a fixed random weighting (sum(out * w)), which checks the
    vector-Jacobian product in one direction. Returns True or raises GradcheckError
    naming, for each failing input, the worst element, both values and the tolerance.
    """
    xs = _inputs_list(inputs)
    checked = [i for i, t in enumerate(xs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; create them with requires_grad=True")
    for i in checked:
        if xs[i].dtype != _core.dtype.float64:
            raise ValueError(f"gradcheck: input {i} is {xs[i].dtype!r}; finite differences need float64 "
                             "(use .double())")
    out = f(*xs)
    weight = None
    if out.numel() != 1:
        rng = np.random.default_rng(seed)
        weight = _core._tensor(rng.standard_normal(tuple(out.shape)), _core.dtype.float64, False)

    def scalar_f(*args):
        o = f(*args)
        return (o * weight).sum() if weight is not None else o.sum()

    analytic = grad(scalar_f(*xs), [xs[i] for i in checked], allow_unused=True)
    problems = []
    for k, i in enumerate(checked):
        def f_of_input(xi, i=i):
            args = list(xs)
            args[i] = xi
            return scalar_f(*args)

        n = numerical_grad(f_of_input, [xs[i]], eps=eps)[0]
        a = np.zeros(tuple(xs[i].shape)) if analytic[k] is None else analytic[k].detach().numpy().astype(np.float64)
        if a.shape != n.shape:
            problems.append(f"input {i}: gradient shape {a.shape} != input shape {n.shape}")
            continue
        if a.size == 0:
            continue
        # NaN compares as a mismatch (both ways), so a non-finite gradient never passes.
        bad = ~(np.abs(a - n) <= atol + rtol * np.abs(n))
        if np.any(bad):
            excess = np.where(np.isfinite(a) & np.isfinite(n), np.abs(a - n) - (atol + rtol * np.abs(n)), np.inf)
            excess = np.where(bad, excess, -np.inf)
            worst = np.unravel_index(int(np.argmax(excess)), a.shape) if a.ndim else ()
            problems.append(
                f"input {i} (shape {tuple(a.shape)}): {int(bad.sum())} of {a.size} elements differ; worst mismatch at "
                f"index {tuple(int(j) for j in worst)}: analytical {a[worst]:.10g}, numerical {n[worst]:.10g}, "
                f"|diff| {abs(a[worst] - n[worst]):.3g} > atol + rtol*|numerical| = {atol + rtol * abs(n[worst]):.3g}")
    if problems:
        raise GradcheckError("gradcheck failed:\n  " + "\n  ".join(problems))
    return True
