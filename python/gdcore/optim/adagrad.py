"""Adagrad: per-coordinate learning rates that shrink with the sum of squared gradients,
with torch.optim.Adagrad's update rule."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from .. import _core
from ..compile import _track_group, _track_step_counts
from ..creation import full_like
from .hyperparams import check_flag, check_number
from .optimizer import Optimizer
from .watchdog import watch_finite

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011).

    At step t (1-based) of a parameter ``p`` with gradient ``g``::

        g = -g if maximize else g
        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        sum = sum + g * g
        p = p - clr * g / (sqrt(sum) + eps)

    Args:
        params: tensors or parameter-group dicts. lr (>= 0), lr_decay (>= 0), weight_decay (>= 0),
        initial_accumulator_value: the starting value of ``sum`` (>= 0), eps (>= 0), maximize.

    State per parameter: ``step`` (int) and ``sum``, created at the parameter's first step.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *, maximize: bool = False,
                 check_finite: bool = False):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize,
                        check_finite=check_finite)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_number("Adagrad", key, group[key])
        check_flag("Adagrad", "maximize", group["maximize"])

    @watch_finite
    def step(self, closure: Optional[Callable[[], Any]] = None):
        """One update of every parameter that has a gradient; returns ``closure()`` when given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            def init(p, state, value=group["initial_accumulator_value"]):
                if not state:
                    state["step"] = 0
                    state["sum"] = full_like(p, value)

            params, grads, states = self._gather(group, init)
            if not params:
                continue
            counts = _core._adagrad_step(params, grads, [s["sum"] for s in states], [s["step"] + 1 for s in states],
                                group["lr"], group["lr_decay"], group["weight_decay"], group["eps"],
                                bool(group["maximize"]))
            if counts is not None:  # captured by gdcore.compile: replays advance the counts
                _track_step_counts(counts, states)
            _track_group(self, group)  # gdcore.compile: replays use these options frozen
            for s in states:  # counted only once the step succeeded
                s["step"] += 1
        return loss
