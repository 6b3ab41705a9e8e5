"""The opt-in divergence watchdog of gdcore.optim: ``check_finite=True`` on any optimizer.

When a parameter group has ``check_finite`` set, every ``step()`` first checks the gradients of
its parameters (and the loss a closure returns) and refuses to update when one holds nan or inf,
so the parameters keep their last finite values; after the update it checks the parameters
themselves, which a too-large learning rate can overflow even from finite gradients. Either way
it raises gdcore.train.DivergenceError naming the step, the parameter (its name when the optimizer
was given ``model.named_parameters()``, else its index in its group, and its shape) and the
learning rate, and suggests a smaller learning rate or standardised features. The checks read the
tensors through numpy (no copies); with the flag off a step costs one extra test per group.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable, Optional

import numpy as np

from .. import _core
from .._core import Tensor
from ..train import DivergenceError

__all__ = ["watch_finite", "non_finite_kind"]


def non_finite_kind(t: Tensor) -> Optional[str]:
    """'nan' or 'inf' when ``t`` holds such a value (nan wins), else None."""
    values = t.detach().numpy()
    if np.isfinite(values).all():
        return None
    return "nan" if np.isnan(values).any() else "inf"


def _parameter_label(group: dict, g: int, i: int, p: Tensor) -> str:
    names = group.get("param_names")
    who = f"'{names[i]}'" if names and i < len(names) else f"{i} of group {g}"
    return f"parameter {who} (shape {tuple(p.shape)})"


def _advice(lr: Any) -> str:
    smaller = f"e.g. lr={lr / 10:g}" if isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0 else \
        "e.g. ten times smaller"
    return f"Try a smaller learning rate ({smaller}) or standardise the features (zero mean, unit variance)."


def _raise(optimizer, step: int, group: dict, g: int, i: int, p: Tensor, what: str, after: str) -> None:
    label = _parameter_label(group, g, i, p)
    lr = group.get("lr")
    raise DivergenceError(f"{type(optimizer).__name__} step {step}: {what.format(label=label)} (lr={lr:g}); "
                          f"{after} {_advice(lr)}", step=step, lr=lr, parameter=label)


def _check_gradients(optimizer, step: int) -> None:
    for g, group in enumerate(optimizer.param_groups):
        if not group.get("check_finite"):
            continue
        for i, p in enumerate(group["params"]):
            kind = None if p.grad is None else non_finite_kind(p.grad)
            if kind:
                _raise(optimizer, step, group, g, i, p, f"the gradient of {{label}} holds {kind}",
                       "the parameters were not updated (they keep their last finite values).")


def _check_parameters(optimizer, step: int) -> None:
    for g, group in enumerate(optimizer.param_groups):
        if not group.get("check_finite"):
            continue
        for i, p in enumerate(group["params"]):
            kind = non_finite_kind(p)
            if kind:
                _raise(optimizer, step, group, g, i, p, f"{{label}} became {kind} after the update",
                       "the update overflowed, so the parameters now hold non-finite values: reload them from a "
                       "checkpoint before training on.")


def watch_finite(step: Callable) -> Callable:
    """Decorate an optimizer's ``step`` so that groups with ``check_finite`` are watched (see module doc)."""

    @functools.wraps(step)
    def watched(self, closure: Optional[Callable[[], Any]] = None):
        if getattr(self, "_watching", False):  # a subclass's step calling its parent's is counted once
            return step(self, closure)
        number = self._step_calls = getattr(self, "_step_calls", 0) + 1  # every step, watched or not
        check = any(g.get("check_finite") for g in self.param_groups)
        if check and _core._capture_active():
            raise RuntimeError(f"{type(self).__name__}(check_finite=True) reads every gradient and parameter, which a "
                               "step compiled with gdcore.compile cannot do; build the optimizer without check_finite "
                               "and check the loss the step returns with gdcore.train.check_finite instead")
        if check and closure is None:
            _check_gradients(self, number)
        elif check:
            closure = _checked_closure(self, closure, number)
        self._watching = True
        try:
            loss = step(self, closure)
        finally:
            self._watching = False
        if check:
            _check_parameters(self, number)
        return loss

    return watched


def _checked_closure(optimizer, closure: Callable, number: int) -> Callable:
    def checked():
        loss = closure()
        value = float(loss.item()) if isinstance(loss, Tensor) and loss.numel() == 1 else loss
        if isinstance(value, (int, float)) and not math.isfinite(value):
            lr = optimizer.param_groups[0].get("lr")
            raise DivergenceError(f"{type(optimizer).__name__} step {number}: the closure's loss is {value} "
                                  f"(lr={lr:g}); the parameters were not updated. {_advice(lr)}",
                                  step=number, lr=lr, loss=value)
        _check_gradients(optimizer, number)
        return loss
    return checked
