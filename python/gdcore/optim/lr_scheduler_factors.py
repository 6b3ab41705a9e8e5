"""More closed-form schedulers of torch.optim.lr_scheduler: ``LinearLR``, ``ConstantLR``,
``PolynomialLR`` and ``CosineAnnealingWarmRestarts``, and ``SequentialLR``, which hands over from
one scheduler to the next at given epochs.

Each rate is ``initial_lr * factor(t)`` (or torch's cosine formula), the closed forms that torch's
step-by-step updates reduce to when a scheduler runs alone; they are re-exported by
``gdcore.optim.lr_scheduler`` (the path torch code imports them from).
"""
from __future__ import annotations

import bisect
import math
import numbers
from typing import Optional, Sequence

from .lr_scheduler import LRScheduler, _integer, _number
from .optimizer import Optimizer

__all__ = ["LinearLR", "ConstantLR", "PolynomialLR", "CosineAnnealingWarmRestarts", "SequentialLR"]


class LinearLR(LRScheduler):
    """factor(t) = start_factor + (end_factor - start_factor) * min(t, total_iters) / total_iters: a linear
    warm-up (or decay) of the rate, constant after total_iters."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        if isinstance(start_factor, bool) or not isinstance(start_factor, numbers.Real) or not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: starting multiplicative factor expected to be greater than 0 and less or "
                             f"equal to 1, got start_factor={start_factor!r}")
        if isinstance(end_factor, bool) or not isinstance(end_factor, numbers.Real) or not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: ending multiplicative factor expected to be between 0 and 1, got "
                             f"end_factor={end_factor!r}")
        self.start_factor, self.end_factor = float(start_factor), float(end_factor)
        self.total_iters = _integer("LinearLR", "total_iters", total_iters, 0)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int) -> list[float]:
        done = 1.0 if self.total_iters == 0 else min(epoch, self.total_iters) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * done
        return [base * factor for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """factor(t) = factor for t < total_iters, then 1."""

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1):
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 <= factor <= 1:
            raise ValueError(f"ConstantLR: constant multiplicative factor expected to be between 0 and 1, got "
                             f"factor={factor!r}")
        self.factor = float(factor)
        self.total_iters = _integer("ConstantLR", "total_iters", total_iters, 0)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int) -> list[float]:
        factor = self.factor if epoch < self.total_iters else 1.0
        return [base * factor for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """factor(t) = (1 - min(t, total_iters) / total_iters) ** power: down to 0 at total_iters (torch's
    PolynomialLR; the chapter's 1/sqrt(t)-style decay is gdcore's InverseTimeLR)."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1):
        self.total_iters = _integer("PolynomialLR", "total_iters", total_iters, 1)
        self.power = _number("PolynomialLR", "power", power)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int) -> list[float]:
        factor = (1.0 - min(epoch, self.total_iters) / self.total_iters) ** self.power
        return [base * factor for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2, where T_cur counts the epochs
    since the last restart and the i-th period lasts T_i = T_0 * T_mult ** i epochs (SGDR).

    ``step()`` advances one epoch; ``step(epoch)`` jumps to ``epoch``, which may be fractional (e.g.
    ``epoch + i / iters`` inside an epoch, as torch documents)."""

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1):
        self.T_0 = _integer("CosineAnnealingWarmRestarts", "T_0", T_0, 1)
        self.T_mult = _integer("CosineAnnealingWarmRestarts", "T_mult", T_mult, 1)
        self.eta_min = _number("CosineAnnealingWarmRestarts", "eta_min", eta_min, -math.inf)
        self.T_i, self.T_cur = self.T_0, float(max(last_epoch, 0))
        super().__init__(optimizer, last_epoch)

    def _position(self, epoch: float) -> tuple[float, float]:
        """(T_cur, T_i) at ``epoch``."""
        if epoch < self.T_0:
            return epoch, float(self.T_0)
        if self.T_mult == 1:
            return epoch % self.T_0, float(self.T_0)
        n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
        start = self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
        if start > epoch:  # log's rounding at an exact restart
            n -= 1
            start = self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
        return epoch - start, float(self.T_0 * self.T_mult ** n)

    def lr_at(self, epoch: float) -> list[float]:
        self.T_cur, self.T_i = self._position(epoch)
        cos = (1.0 + math.cos(math.pi * self.T_cur / self.T_i)) / 2.0
        return [self.eta_min + (base - self.eta_min) * cos for base in self.base_lrs]

    def step(self, epoch: Optional[float] = None) -> None:
        if epoch is None:
            super().step()
            return
        if isinstance(epoch, bool) or not isinstance(epoch, numbers.Real) or epoch < 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected a non-negative epoch, but got epoch={epoch!r}")
        lrs = self.lr_at(epoch)
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = list(lrs)


class SequentialLR(LRScheduler):
    """Runs ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` from its epoch 0 until
    ``milestones[1]``, and so on (e.g. a LinearLR warm-up, then CosineAnnealingLR)."""

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int],
                 last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"SequentialLR: expected a gdcore.optim.Optimizer, got {type(optimizer).__name__}")
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("SequentialLR expects at least one scheduler")
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler) or not hasattr(s, "lr_at"):
                raise TypeError(f"SequentialLR: schedulers[{i}] is a {type(s).__name__}, not an lr scheduler")
            if s.optimizer is not optimizer:
                raise ValueError(f"SequentialLR expects all schedulers to belong to the same optimizer, but "
                                 f"scheduler at index {i} has a different one")
        milestones = [_integer("SequentialLR", "milestone", m, 0) for m in milestones]
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR expects the number of schedulers to be one more than the number of "
                             f"milestones, but got {len(schedulers)} schedulers and {len(milestones)} milestones")
        if milestones != sorted(milestones):
            raise ValueError(f"SequentialLR: milestones must be increasing, got {milestones}")
        self.optimizer = optimizer
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = _integer("SequentialLR", "last_epoch", last_epoch, -1) + 1
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        # Each scheduler already took its first step when it was built; start the first one afresh.
        for s in schedulers:
            s.last_epoch = -1
        schedulers[0].step()
        self._last_lr = schedulers[0].get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        idx = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler.last_epoch = -1  # its epoch 0
        scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict:
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs), "_milestones": list(self._milestones),
                "_last_lr": list(self._last_lr), "_schedulers": [s.state_dict() for s in self._schedulers]}

    def load_state_dict(self, state_dict: dict) -> None:
        states = state_dict.get("_schedulers")
        if states is None or len(states) != len(self._schedulers):
            raise ValueError("SequentialLR.load_state_dict: the state dict does not hold one state per scheduler; "
                             "pass the dict returned by SequentialLR.state_dict()")
        for s, st in zip(self._schedulers, states):
            s.load_state_dict(st)
        self.last_epoch = state_dict["last_epoch"]
        self._last_lr = list(state_dict["_last_lr"])
