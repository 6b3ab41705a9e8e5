"""The learning-rate advisor: how large a learning rate can be before gradient descent diverges, from the
Hessian's largest eigenvalue, told before training starts.

On a quadratic with Hessian H, one step of gradient descent multiplies the error along an eigenvector of
eigenvalue lambda by (1 - lr * lambda); it grows, and the run diverges, exactly when lr > 2 / lambda_max.
With momentum beta the update is a second-order recurrence whose roots leave the unit circle exactly when
lr * lambda_max > 2 (1 + beta) (heavy ball, torch's SGD; divided by 1 - dampening); with Nesterov momentum
when lr * lambda_max > 2 (1 + beta) / (1 + 2 beta). Weight decay wd adds wd to every eigenvalue. A neural
network's loss is not a quadratic, but near the current point it is one to second order, so the same bound
predicts the instability of the first steps; during training the curvature changes (see track_sharpness).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .. import _core
from .._core import Tensor
from .eigen import top_eigenvalues

__all__ = ["LRAdvice", "UnstableLearningRateWarning", "stability_bound", "critical_sharpness", "sgd_settings",
           "suggest_lr", "check_learning_rate"]


class UnstableLearningRateWarning(UserWarning):
    """fit(check_lr=True): the learning rate is above the stability bound 2 / lambda_max (or its momentum form)."""


def _factor(momentum: float, dampening: float, nesterov: bool) -> float:
    """c in the bound lr * (lambda_max + weight_decay) < c."""
    if momentum == 0:
        return 2.0
    if momentum >= 1:
        return 0.0        # the momentum buffer never forgets: no learning rate converges
    if nesterov:
        return 2.0 * (1 + momentum) / (1 + 2 * momentum)
    if dampening >= 1:
        return math.inf   # the buffer receives no gradient: the parameters never move
    return 2.0 * (1 + momentum) / (1 - dampening)


def stability_bound(lambda_max: float, momentum: float = 0.0, dampening: float = 0.0, nesterov: bool = False,
                    weight_decay: float = 0.0) -> float:
    """The learning rate above which SGD (torch's update rule, these options) diverges on a quadratic whose
    Hessian has the largest eigenvalue ``lambda_max``: 2 / lambda_max without momentum. inf when there is no
    positive curvature."""
    curvature = float(lambda_max) + float(weight_decay)
    c = _factor(float(momentum), float(dampening), bool(nesterov))
    if curvature <= 0 or math.isinf(c):
        return math.inf
    return c / curvature


def critical_sharpness(lr: float, momentum: float = 0.0, dampening: float = 0.0, nesterov: bool = False,
                       weight_decay: float = 0.0) -> float:
    """The largest eigenvalue at which learning rate ``lr`` becomes unstable: 2 / lr without momentum."""
    if lr <= 0:
        return math.inf
    return _factor(float(momentum), float(dampening), bool(nesterov)) / float(lr) - float(weight_decay)


def sgd_settings(optimizer: Any, caller: str) -> dict:
    """lr, momentum, dampening, nesterov and weight_decay of an optim.SGD (the same in every group)."""
    from ..optim import SGD
    if not isinstance(optimizer, SGD):
        raise ValueError(f"{caller}: the stability bound 2 / lambda_max is for SGD (with or without momentum), not "
                         f"for {type(optimizer).__name__}, whose steps do not scale with the gradient the same way; "
                         "use optim.SGD, or gdcore.train.lr_find to choose its learning rate")
    keys = ("lr", "momentum", "dampening", "nesterov", "weight_decay")
    groups = optimizer.param_groups
    first = {key: groups[0][key] for key in keys}
    for i, group in enumerate(groups[1:], 1):
        for key in keys:
            if group[key] != first[key]:
                raise ValueError(f"{caller}: parameter groups 0 and {i} have different {key} ({first[key]!r} and "
                                 f"{group[key]!r}); the bound assumes one setting for all parameters")
    return first


def _kind(settings: dict) -> str:
    if not settings["momentum"]:
        return "gradient descent"
    return f"{'Nesterov ' if settings['nesterov'] else ''}SGD with momentum {settings['momentum']:g}"


@dataclass
class LRAdvice:
    """What ``suggest_lr`` returns.

    ``lambda_max``: the largest Hessian eigenvalue of the loss on the batch; ``bound``: the learning rate
    above which the optimizer diverges on that curvature (inf without positive curvature);
    ``suggested_lr``: half the bound (None when the bound is inf); ``lr``: the optimizer's learning rate
    (None without an optimizer); ``stable``: lr < bound (None without an optimizer); ``formula``: the bound
    in symbols; ``loss``: the loss on the batch; ``converged``: whether the eigenvalue met its tolerance.
    ``explanation``: one paragraph saying all this in words (also ``str(advice)``).
    """
    lambda_max: float
    bound: float
    suggested_lr: Optional[float]
    lr: Optional[float]
    formula: str
    optimizer: str
    loss: float
    converged: bool = True

    @property
    def stable(self) -> Optional[bool]:
        return None if self.lr is None else self.lr < self.bound

    @property
    def explanation(self) -> str:
        if math.isinf(self.bound):
            return (f"The largest eigenvalue of the loss's Hessian on this batch is {self.lambda_max:.4g}: there is no "
                    "positive curvature here, so no learning rate makes the first steps of "
                    f"{self.optimizer} oscillate and diverge. The bound gives no limit; choose the learning rate with "
                    "gdcore.train.lr_find instead.")
        text = (f"The largest eigenvalue of the loss's Hessian on this batch is lambda_max = {self.lambda_max:.4g}. "
                "Near the current point the loss is a quadratic, and one step of gradient descent multiplies the error "
                "along the sharpest direction by (1 - lr * lambda_max), so it grows, and training diverges, when "
                f"lr > 2 / lambda_max; for {self.optimizer} the limit is {self.formula} = {self.bound:.4g}.")
        if self.lr is not None:
            ratio = self.lr / self.bound
            if self.lr >= self.bound:
                text += (f" Your lr = {self.lr:g} is {ratio:.3g} times that bound: expect the loss to oscillate with "
                         "growing amplitude and overflow within a few steps.")
            else:
                text += f" Your lr = {self.lr:g} is {ratio:.2g} of the bound, inside the stable range."
        text += (f" Suggested: lr = {self.suggested_lr:.4g}, half the bound, which leaves room for batches sharper "
                 "than this one and for the curvature to grow during training (it often rises until it reaches the "
                 "limit, the 'edge of stability').")
        if not self.converged:
            text += (" (The eigenvalue did not reach its tolerance; lambda_max may be underestimated: raise max_iter.)")
        return text

    def __str__(self) -> str:
        return self.explanation


def _first_batch(data: Any, caller: str) -> tuple:
    if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], Tensor):
        return data[0], data[1]
    try:
        batch = next(iter(data))
    except TypeError:
        raise TypeError(f"{caller}: loader_or_batch must be an (inputs, targets) pair or an iterable of such batches "
                        f"(a DataLoader), got {type(data).__name__}") from None
    except StopIteration:
        raise ValueError(f"{caller}: the loader yields no batches") from None
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise TypeError(f"{caller}: each batch must be an (inputs, targets) pair, got {type(batch).__name__}")
    return batch[0], batch[1]


def batch_closure(model: Callable, loss_fn: Callable, X: Any, y: Any) -> Callable:
    """The loss of ``model`` on one batch (its mean when loss_fn returns one value per sample), as fit computes it."""
    def closure():
        loss = loss_fn(model(X), y)
        return loss.mean() if isinstance(loss, Tensor) and loss.numel() > 1 else loss
    return closure


def model_parameters(model: Any, caller: str) -> list:
    """The parameters of ``model`` that require grad (a Module, or anything with parameters())."""
    if not callable(getattr(model, "parameters", None)):
        raise TypeError(f"{caller}: the model must have parameters() (an nn.Module), got {type(model).__name__}")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError(f"{caller}: no parameter of the model requires grad, so there is nothing to train")
    return params


def suggest_lr(model: Callable, loss_fn: Callable, loader_or_batch: Any, optimizer: Any = None, *,
               max_iter: int = 100, tol: float = 1e-4, generator: Optional[_core.Generator] = None) -> LRAdvice:
    """The stability bound on the learning rate for ``model`` and a suggestion, before training.

    ``loader_or_batch``: an (X, y) pair of tensors, or a DataLoader (its first batch is used). The loss is
    ``loss_fn(model(X), y)`` (its mean when it has one value per sample), as in ``fit``. ``optimizer``: an
    optim.SGD whose momentum, dampening, Nesterov flag and weight decay enter the bound and whose lr is
    judged; None for plain gradient descent. λ_max comes from ``top_eigenvalues`` (Lanczos, ``max_iter``,
    ``tol``, start drawn from ``generator``). Returns an :class:`LRAdvice`; ``print(advice)`` explains it.
    """
    caller = "suggest_lr"
    settings = (sgd_settings(optimizer, caller) if optimizer is not None else
                dict(lr=None, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0))
    X, y = _first_batch(loader_or_batch, caller)
    params = model_parameters(model, caller)
    top = top_eigenvalues(batch_closure(model, loss_fn, X, y), params, k=1, max_iter=max_iter, tol=tol,
                          generator=generator)
    lam = top.eigenvalues[0]
    bound = stability_bound(lam, settings["momentum"], settings["dampening"], settings["nesterov"],
                            settings["weight_decay"])
    beta, damp, wd = settings["momentum"], settings["dampening"], settings["weight_decay"]
    curvature = f"(lambda_max + {wd:g})" if wd else "lambda_max"
    if not beta:
        formula = f"2 / {curvature}"
    elif settings["nesterov"]:
        formula = f"2 (1 + {beta:g}) / ((1 + 2 * {beta:g}) {curvature})"
    else:
        formula = f"2 (1 + {beta:g}) / {'(1 - ' + format(damp, 'g') + ') ' if damp else ''}{curvature}"
    return LRAdvice(lambda_max=lam, bound=bound, suggested_lr=None if math.isinf(bound) else bound / 2,
                    lr=settings["lr"], formula=formula, optimizer=_kind(settings), loss=top.loss,
                    converged=top.converged)


def check_learning_rate(model: Callable, loss_fn: Callable, optimizer: Any, batch: tuple, mode: Any) -> LRAdvice:
    """fit(check_lr=...): warn (mode True) or raise ValueError (mode "error") when the optimizer's lr is at or
    above the stability bound on ``batch``; the message names both numbers."""
    advice = suggest_lr(model, loss_fn, batch, optimizer, generator=_core.Generator(0))
    if advice.stable is False:
        message = (f"fit(check_lr): lr={advice.lr:g} is above the stability bound {advice.formula} = "
                   f"{advice.bound:.4g} (lambda_max = {advice.lambda_max:.4g} on the first batch), so "
                   f"{advice.optimizer} will diverge; use lr <= {advice.suggested_lr:.4g} (half the bound) or "
                   "standardise the features.")
        if mode == "error":
            raise ValueError(message)
        warnings.warn(message, UnstableLearningRateWarning, stacklevel=4)
    return advice
