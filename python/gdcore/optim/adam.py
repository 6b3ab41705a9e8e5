"""Adam and AdamW: bias-corrected running moments of the gradient, with L2 weight decay
(Adam) or decoupled weight decay (AdamW), following torch.optim.Adam and AdamW."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from .. import _core
from ..compile import _track_group, _track_step_counts
from ..creation import zeros_like
from .hyperparams import check_betas, check_flag, check_number
from .optimizer import Optimizer
from .watchdog import watch_finite

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), optionally AMSGrad.

    At step t (1-based) of a parameter ``p`` with gradient ``g``::

        g = -g if maximize else g
        g = g + weight_decay * p                      # Adam only (L2 penalty)
        p = p * (1 - lr * weight_decay)               # AdamW only (decoupled decay)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        vmax = max(vmax, v) if amsgrad                # and v is replaced by vmax below
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    Args:
        params: tensors or parameter-group dicts. lr (>= 0), betas: (beta1, beta2) each in [0, 1),
        eps (>= 0), weight_decay (>= 0), amsgrad, maximize.

    State per parameter: ``step`` (int), ``exp_avg`` (m), ``exp_avg_sq`` (v) and
    ``max_exp_avg_sq`` (vmax, when amsgrad).
    """

    _decoupled = False

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 check_finite: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        check_finite=check_finite)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        check_number(name, "lr", group["lr"])
        check_betas(name, group["betas"])
        check_number(name, "eps", group["eps"])
        check_number(name, "weight_decay", group["weight_decay"])
        check_flag(name, "amsgrad", group["amsgrad"])
        check_flag(name, "maximize", group["maximize"])

    @watch_finite
    def step(self, closure: Optional[Callable[[], Any]] = None):
        """One update of every parameter that has a gradient; returns ``closure()`` when given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            amsgrad = bool(group["amsgrad"])

            def init(p, state):
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = zeros_like(p)
                    state["exp_avg_sq"] = zeros_like(p)
                if amsgrad and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = zeros_like(p)

            params, grads, states = self._gather(group, init)
            if not params:
                continue
            beta1, beta2 = group["betas"]
            counts = _core._adam_step(params, grads, [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states],
                             [s["max_exp_avg_sq"] for s in states] if amsgrad else [],
                             [s["step"] + 1 for s in states], group["lr"], beta1, beta2, group["eps"],
                             group["weight_decay"], amsgrad, bool(group["maximize"]), self._decoupled)
            if counts is not None:  # captured by gdcore.compile: replays advance the counts
                _track_step_counts(counts, states)
            _track_group(self, group)  # gdcore.compile: replays use these options frozen
            for s in states:  # counted only once the step succeeded
                s["step"] += 1
        return loss


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

    Each step first shrinks the parameter, ``p = p * (1 - lr * weight_decay)``, then applies
    Adam's update without any L2 term (see :class:`Adam` for the rest of the rule).
    Same arguments as :class:`Adam`, but ``weight_decay`` defaults to 1e-2.
    """

    _decoupled = True

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 check_finite: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, check_finite=check_finite)
