"""Learning-rate schedulers that set an optimizer's ``lr`` each epoch, with torch's API
(``scheduler.step()`` after ``optimizer.step()``, ``get_last_lr()``, state dicts).

Every scheduler is a closed form: at epoch t the lr of a group is ``initial_lr * f(t)``
where f is one of the plain functions of :mod:`gdcore.optim.schedules` built with a unit
learning rate (so the formula lives in one place and a group with lr 0 stays valid).
Being closed forms, they are not chainable: each step overwrites ``group["lr"]``.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Sequence, Union

from . import schedules
from .optimizer import Optimizer

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "InverseTimeLR", "LambdaLR",
           "CosineAnnealingLR"]


def _number(cls: str, name: str, value, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < low:
        raise ValueError(f"{cls}: {name} must be a finite number >= {low:g}, got {value!r}")
    return float(value)


def _integer(cls: str, name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{cls}: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


class LRScheduler:
    """Base class: sets each param group's ``lr`` to ``lr_at(epoch)`` at every ``step()``.

    Args:
        optimizer: the optimizer whose groups' ``lr`` is scheduled.
        last_epoch: the index of the last epoch done (-1 to start; when resuming, each group
            must hold its ``initial_lr``, which a scheduler writes into the groups when it starts).

    Construction performs the first step, so ``get_last_lr()`` is the epoch-0 rate at once.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected a gdcore.optim.Optimizer, got {type(optimizer).__name__}")
        last_epoch = _integer(name, "last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"{name}: param_groups[{i}] has no 'initial_lr', needed to resume at "
                               f"last_epoch={last_epoch}; start with last_epoch=-1 or load the optimizer's state dict")
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._last_lr: list[float] = []
        self.step()

    def lr_at(self, epoch: int) -> list[float]:
        """The learning rate of every group at ``epoch`` (subclasses define this)."""
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        """The learning rates for the current ``last_epoch``."""
        return self.lr_at(self.last_epoch)

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last ``step()``, one per param group."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance one epoch and write the new rates into the optimizer's groups."""
        self.last_epoch += 1
        lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = list(lrs)

    def _rebuild(self) -> None:
        """Recompute whatever is derived from the saved attributes (after load_state_dict)."""

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's plain-data attributes (epoch, base rates, hyperparameters); no functions."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in vars(self).items()
                if k != "optimizer" and not callable(v) and not k.startswith("_fn")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore attributes saved by ``state_dict()``."""
        name = type(self).__name__
        missing = {"last_epoch", "base_lrs"} - set(state_dict)
        if missing:
            raise ValueError(f"{name}.load_state_dict: the state dict lacks {sorted(missing)}; "
                             f"pass the dict returned by scheduler.state_dict()")
        if len(state_dict["base_lrs"]) != len(self.optimizer.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(state_dict['base_lrs'])} base rates "
                             f"but the optimizer has {len(self.optimizer.param_groups)} param groups")
        self.__dict__.update({k: v for k, v in state_dict.items() if k != "optimizer"})
        self._rebuild()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self._last_lr})"


class _UnitScheduleLR(LRScheduler):
    """A scheduler whose rate is ``base_lr * unit(t)`` for a schedule built with lr = 1."""

    def __init__(self, optimizer: Optimizer, last_epoch: int):
        self._rebuild()
        super().__init__(optimizer, last_epoch)

    def _unit_schedule(self) -> schedules.Schedule:
        raise NotImplementedError

    def _rebuild(self) -> None:
        self._fn_unit = self._unit_schedule()

    def lr_at(self, epoch: int) -> list[float]:
        factor = self._fn_unit(epoch)
        return [base * factor for base in self.base_lrs]


class StepLR(_UnitScheduleLR):
    """lr(t) = initial_lr * gamma ** (t // step_size): multiply by gamma every step_size epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        self.step_size = _integer("StepLR", "step_size", step_size, 1)
        self.gamma = _number("StepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _unit_schedule(self) -> schedules.Schedule:
        return schedules.step(1.0, self.step_size, self.gamma)


class MultiStepLR(_UnitScheduleLR):
    """lr(t) = initial_lr * gamma ** (number of milestones <= t): piecewise constant, decayed at each milestone.

    A milestone listed twice decays twice, as in torch.
    """

    def __init__(self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1, last_epoch: int = -1):
        if isinstance(milestones, (str, bytes)) or not hasattr(milestones, "__iter__"):
            raise TypeError(f"MultiStepLR: milestones must be a list of epochs, got {milestones!r}")
        self.milestones = sorted(_integer("MultiStepLR", "milestone", m, 0) for m in milestones)
        self.gamma = _number("MultiStepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _unit_schedule(self) -> schedules.Schedule:
        return schedules.multistep(1.0, self.milestones, self.gamma)


class ExponentialLR(_UnitScheduleLR):
    """lr(t) = initial_lr * gamma ** t."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = _number("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _unit_schedule(self) -> schedules.Schedule:
        return schedules.exponential(1.0, self.gamma)


class InverseTimeLR(_UnitScheduleLR):
    """lr(t) = initial_lr * (beta * t + 1) ** -alpha: the chapter's polynomial decay.

    With alpha = 0.5 the rate falls like 1/sqrt(t), which keeps SGD convergent on convex
    problems. (torch's PolynomialLR is a different schedule, decaying to 0 at total_iters.)
    """

    def __init__(self, optimizer: Optimizer, alpha: float = 0.5, beta: float = 1.0, last_epoch: int = -1):
        self.alpha = _number("InverseTimeLR", "alpha", alpha)
        self.beta = _number("InverseTimeLR", "beta", beta)
        super().__init__(optimizer, last_epoch)

    def _unit_schedule(self) -> schedules.Schedule:
        return schedules.polynomial(1.0, self.alpha, self.beta)


class LambdaLR(LRScheduler):
    """lr(t) = initial_lr * lr_lambda(t), with one function for all groups or one per group.

    The functions are not part of ``state_dict()``: build the scheduler with the same
    functions before loading.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Union[Callable[[int], float], Sequence[Callable[[int], float]]],
                 last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"LambdaLR: expected a gdcore.optim.Optimizer, got {type(optimizer).__name__}")
        n = len(optimizer.param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(lambdas) != n:
            raise ValueError(f"LambdaLR: got {len(lambdas)} lr_lambdas for {n} param groups; pass one function "
                             f"or one per group")
        for f in lambdas:
            if not callable(f):
                raise TypeError(f"LambdaLR: lr_lambda must be callable, got {f!r}")
        self._fn_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int) -> list[float]:
        lrs = []
        for base, f in zip(self.base_lrs, self._fn_lambdas):
            factor = f(epoch)
            if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
                raise TypeError(f"LambdaLR: lr_lambda({epoch}) returned {factor!r}; it must return a number")
            if not (math.isfinite(factor) and factor >= 0):
                raise ValueError(f"LambdaLR: lr_lambda({epoch}) returned {factor!r}; the factor must be a finite "
                                 "number >= 0 (the learning rate is initial_lr * factor)")
            lrs.append(base * factor)
        return lrs


class CosineAnnealingLR(LRScheduler):
    """lr(t) = eta_min + (initial_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2: from initial_lr down to
    eta_min over T_max epochs along half a cosine (torch's closed form, without warm restarts)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        self.T_max = _integer("CosineAnnealingLR", "T_max", T_max, 1)
        self.eta_min = _number("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int) -> list[float]:
        return [schedules.cosine(base, self.T_max, self.eta_min)(epoch) for base in self.base_lrs]


# torch's other schedulers, each in a file of its kind, under the import path torch code uses.
from .lr_scheduler_factors import (  # noqa: E402
    ConstantLR, CosineAnnealingWarmRestarts, LinearLR, PolynomialLR, SequentialLR,
)
from .lr_scheduler_cyclic import CyclicLR, OneCycleLR  # noqa: E402
from .plateau import ReduceLROnPlateau  # noqa: E402

__all__ += ["LinearLR", "ConstantLR", "PolynomialLR", "CosineAnnealingWarmRestarts", "SequentialLR", "OneCycleLR",
            "CyclicLR", "ReduceLROnPlateau"]
