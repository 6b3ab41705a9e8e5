"""Stochastic gradient descent with optional momentum, dampening, Nesterov momentum,
weight decay and maximisation, with torch.optim.SGD's update rule."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from .. import _core
from ..compile import _track_group
from ..creation import zeros_like
from .hyperparams import check_flag, check_number
from .optimizer import Optimizer
from .watchdog import watch_finite

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum.

    For each parameter ``p`` with gradient ``g`` (torch's rule; the gradient is negated
    first when ``maximize``, so weight decay still pulls the weights towards zero)::

        g = -g if maximize else g
        g = g + weight_decay * p
        if momentum != 0:
            b = g on the first step, else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p = p - lr * g

    Args:
        params: tensors or parameter-group dicts (see :class:`Optimizer`).
        lr: learning rate (>= 0). momentum: momentum factor (>= 0). dampening: dampening of
        the momentum. weight_decay: L2 penalty (>= 0). nesterov: Nesterov momentum (needs
        momentum > 0 and dampening == 0). maximize: ascend the objective instead.

    State per parameter: ``momentum_buffer`` (when momentum != 0).
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False,
                 check_finite: bool = False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, check_finite=check_finite)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("SGD", "lr", group["lr"])
        momentum = check_number("SGD", "momentum", group["momentum"])
        dampening = check_number("SGD", "dampening", group["dampening"], low=-float("inf"))
        check_number("SGD", "weight_decay", group["weight_decay"])
        nesterov = check_flag("SGD", "nesterov", group["nesterov"])
        check_flag("SGD", "maximize", group["maximize"])
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: nesterov=True needs momentum > 0 and dampening == 0, got momentum={momentum!r} "
                             f"and dampening={dampening!r}")

    @watch_finite
    def step(self, closure: Optional[Callable[[], Any]] = None):
        """One update of every parameter that has a gradient; returns ``closure()`` when given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            use_momentum = group["momentum"] != 0
            params, grads, buffers, new_buffers, created = [], [], [], [], []
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                params.append(p)
                grads.append(g)
                if use_momentum:
                    buf = self.state[p].get("momentum_buffer")
                    is_new = buf is None
                    if is_new:  # torch starts the buffer at the first gradient; the kernel copies it in
                        buf = zeros_like(p)
                        created.append((p, buf))
                    new_buffers.append(is_new)
                    buffers.append(buf)
            if not params:
                continue
            _core._sgd_step(params, grads, buffers, new_buffers, group["lr"], group["momentum"], group["dampening"],
                            group["weight_decay"], bool(group["nesterov"]), bool(group["maximize"]))
            _track_group(self, group)  # gdcore.compile: replays use these options frozen
            for p, buf in created:  # stored only once the step succeeded
                self.state[p]["momentum_buffer"] = buf
        return loss
