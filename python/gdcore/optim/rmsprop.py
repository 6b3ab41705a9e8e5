"""RMSprop: gradients scaled by a running root-mean-square, optionally centered and with
momentum, with torch.optim.RMSprop's update rule."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from .. import _core
from ..compile import _track_group
from ..creation import zeros_like
from .hyperparams import check_flag, check_number
from .optimizer import Optimizer
from .watchdog import watch_finite

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e).

    For a parameter ``p`` with gradient ``g``::

        g = -g if maximize else g
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            m = alpha * m + (1 - alpha) * g;  s = sqrt(v - m * m) + eps
        else:
            s = sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / s;  p = p - lr * b
        else:
            p = p - lr * g / s

    Args:
        params: tensors or parameter-group dicts. lr (>= 0), alpha: smoothing constant (>= 0),
        eps (>= 0), weight_decay (>= 0), momentum (>= 0), centered, maximize.

    State per parameter: ``step`` (int), ``square_avg`` (v), ``grad_avg`` (m, when centered),
    ``momentum_buffer`` (b, when momentum > 0).
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False, check_finite: bool = False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize, check_finite=check_finite)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            check_number("RMSprop", key, group[key])
        check_flag("RMSprop", "centered", group["centered"])
        check_flag("RMSprop", "maximize", group["maximize"])

    @watch_finite
    def step(self, closure: Optional[Callable[[], Any]] = None):
        """One update of every parameter that has a gradient; returns ``closure()`` when given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            centered, use_momentum = bool(group["centered"]), group["momentum"] > 0

            def init(p, state):
                if not state:
                    state["step"] = 0
                    state["square_avg"] = zeros_like(p)
                if use_momentum and "momentum_buffer" not in state:
                    state["momentum_buffer"] = zeros_like(p)
                if centered and "grad_avg" not in state:
                    state["grad_avg"] = zeros_like(p)

            params, grads, states = self._gather(group, init)
            if not params:
                continue
            _core._rmsprop_step(params, grads, [s["square_avg"] for s in states],
                                [s["grad_avg"] for s in states] if centered else [],
                                [s["momentum_buffer"] for s in states] if use_momentum else [],
                                group["lr"], group["alpha"], group["eps"], group["weight_decay"], group["momentum"],
                                centered, bool(group["maximize"]))
            _track_group(self, group, states)  # gdcore.compile: frozen options; replays count steps
            for s in states:
                s["step"] += 1
        return loss
