"""Adadelta: steps scaled by the ratio of running RMS of updates and of gradients, with
torch.optim.Adadelta's update rule."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from .. import _core
from ..compile import _track_group
from ..creation import zeros_like
from .hyperparams import check_flag, check_number
from .optimizer import Optimizer
from .watchdog import watch_finite

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012).

    For a parameter ``p`` with gradient ``g``::

        g = -g if maximize else g
        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        d = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * d * d
        p = p - lr * d

    Args:
        params: tensors or parameter-group dicts. lr (>= 0), rho in [0, 1], eps (>= 0),
        weight_decay (>= 0), maximize.

    State per parameter: ``step`` (int), ``square_avg`` (v) and ``acc_delta`` (u).
    """

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False,
                 check_finite: bool = False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        check_finite=check_finite)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("Adadelta", "lr", group["lr"])
        check_number("Adadelta", "rho", group["rho"], 0.0, 1.0)
        check_number("Adadelta", "eps", group["eps"])
        check_number("Adadelta", "weight_decay", group["weight_decay"])
        check_flag("Adadelta", "maximize", group["maximize"])

    @watch_finite
    def step(self, closure: Optional[Callable[[], Any]] = None):
        """One update of every parameter that has a gradient; returns ``closure()`` when given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            def init(p, state):
                if not state:
                    state["step"] = 0
                    state["square_avg"] = zeros_like(p)
                    state["acc_delta"] = zeros_like(p)

            params, grads, states = self._gather(group, init)
            if not params:
                continue
            _core._adadelta_step(params, grads, [s["square_avg"] for s in states], [s["acc_delta"] for s in states],
                                 group["lr"], group["rho"], group["eps"], group["weight_decay"],
                                 bool(group["maximize"]))
            _track_group(self, group, states)  # gdcore.compile: frozen options; replays count steps
            for s in states:
                s["step"] += 1
        return loss
