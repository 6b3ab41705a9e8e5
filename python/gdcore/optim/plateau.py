"""``ReduceLROnPlateau``: divide the rate when a watched metric stops improving, as torch's
(re-exported by ``gdcore.optim.lr_scheduler``). Unlike the other schedulers it is not a function
of the epoch: ``step(metric)`` after each validation decides from the metric's history.
"""
from __future__ import annotations

import math
import numbers

from .lr_scheduler import LRScheduler, _integer, _number
from .optimizer import Optimizer

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(LRScheduler):
    """After more than ``patience`` epochs without improvement of the metric ('min' mode: lower is
    better; 'max': higher), each group's lr becomes max(lr * factor, min_lr), unless that changes it by
    less than ``eps``; then ``cooldown`` epochs pass before counting again. Improvement means beating
    the best by ``threshold``: relatively (best * (1 -+ threshold), ``threshold_mode='rel'``) or
    absolutely (best -+ threshold, 'abs')."""

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0, min_lr=0.0,
                 eps: float = 1e-8):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: expected a gdcore.optim.Optimizer, got {type(optimizer).__name__}")
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor should be < 1.0, got {factor!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode {mode!r} is unknown; use 'min' or 'max'")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold mode {threshold_mode!r} is unknown; use 'rel' or 'abs'")
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"ReduceLROnPlateau: expected {n} min_lrs, got {len(min_lr)}")
            self.min_lrs = [_number("ReduceLROnPlateau", "min_lr", v) for v in min_lr]
        else:
            self.min_lrs = [_number("ReduceLROnPlateau", "min_lr", min_lr)] * n
        self.optimizer = optimizer
        self.factor = float(factor)
        self.patience = _integer("ReduceLROnPlateau", "patience", patience, 0)
        self.threshold = _number("ReduceLROnPlateau", "threshold", threshold)
        self.cooldown = _integer("ReduceLROnPlateau", "cooldown", cooldown, 0)
        self.eps = _number("ReduceLROnPlateau", "eps", eps)
        self.mode, self.threshold_mode = mode, threshold_mode
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self._last_lr = list(self.base_lrs)

    def _is_better(self, a: float) -> bool:
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            return a < (self.best * (1.0 - self.threshold) if rel else self.best - self.threshold)
        return a > (self.best * (1.0 + self.threshold) if rel else self.best + self.threshold)

    def step(self, metrics) -> None:
        """Record this epoch's ``metrics`` (a number or a one-element tensor) and reduce the rate if it stalled."""
        try:
            current = float(metrics)
        except (TypeError, ValueError):
            raise TypeError(f"ReduceLROnPlateau.step: metrics must be a number or a one-element tensor, got "
                            f"{metrics!r}") from None
        self.last_epoch += 1
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, floor)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def load_state_dict(self, state_dict: dict) -> None:
        missing = {"best", "num_bad_epochs", "cooldown_counter", "last_epoch"} - set(state_dict)
        if missing:
            raise ValueError(f"ReduceLROnPlateau.load_state_dict: the state dict lacks {sorted(missing)}; pass the "
                             "dict returned by scheduler.state_dict()")
        self.__dict__.update({k: v for k, v in state_dict.items() if k != "optimizer"})
