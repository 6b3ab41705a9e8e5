"""Cyclical schedules of torch.optim.lr_scheduler: ``OneCycleLR`` (Smith's 1cycle policy, stepped once
per batch) and ``CyclicLR`` (triangular cycles between two rates). Both can move the momentum
the opposite way (SGD's ``momentum`` or Adam's first beta), as torch's do.

Each is torch's closed form of the step count; they are re-exported by
``gdcore.optim.lr_scheduler``.
"""
from __future__ import annotations

import math
import numbers
from typing import Callable, Optional

from .lr_scheduler import LRScheduler, _integer, _number
from .optimizer import Optimizer

__all__ = ["OneCycleLR", "CyclicLR"]


def _per_group(cls: str, name: str, value, optimizer: Optimizer) -> list[float]:
    """A value per param group, from one number or a list/tuple of them (torch's _format_param)."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{cls}: expected {n} values for {name}, got {len(value)}")
        return [_number(cls, name, v) for v in value]
    return [_number(cls, name, value)] * n


def _momentum_key(cls: str, optimizer: Optimizer) -> bool:
    """True when the optimizer's momentum is its first beta (Adam), False for SGD-style ``momentum``."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(f"{cls}: optimizer must support momentum or beta1 with `cycle_momentum` option enabled "
                         f"({type(optimizer).__name__} has neither); pass cycle_momentum=False")
    return "betas" in optimizer.defaults


def _set_momentum(group: dict, use_beta1: bool, momentum: float) -> None:
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _check_optimizer(cls: str, optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{cls}: expected a gdcore.optim.Optimizer, got {type(optimizer).__name__}")


class OneCycleLR(LRScheduler):
    """The 1cycle policy: the rate rises from max_lr / div_factor to max_lr over the first ``pct_start`` of
    ``total_steps`` (= epochs * steps_per_epoch), then anneals ('cos' or 'linear') to
    initial_lr / final_div_factor; the momentum moves from max_momentum to base_momentum and back.
    ``three_phase`` comes back down to the initial rate symmetrically before the final annealing.
    Call ``step()`` after every batch; stepping past total_steps raises."""

    def __init__(self, optimizer: Optimizer, max_lr, total_steps: Optional[int] = None, epochs: Optional[int] = None,
                 steps_per_epoch: Optional[int] = None, pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False, last_epoch: int = -1):
        _check_optimizer("OneCycleLR", optimizer)
        if total_steps is not None:
            self.total_steps = _integer("OneCycleLR", "total_steps", total_steps, 1)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = (_integer("OneCycleLR", "epochs", epochs, 1)
                                * _integer("OneCycleLR", "steps_per_epoch", steps_per_epoch, 1))
        else:
            raise ValueError("OneCycleLR: you must define either total_steps OR (epochs AND steps_per_epoch)")
        if isinstance(pct_start, bool) or not isinstance(pct_start, numbers.Real) or not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: expected float between 0 and 1 pct_start, but got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy!r}")
        div_factor = _number("OneCycleLR", "div_factor", div_factor)
        final_div_factor = _number("OneCycleLR", "final_div_factor", final_div_factor)
        if div_factor == 0 or final_div_factor == 0:
            raise ValueError("OneCycleLR: div_factor and final_div_factor must be nonzero")
        self.anneal_strategy = anneal_strategy
        self.cycle_momentum = bool(cycle_momentum)
        t, p = self.total_steps, float(pct_start)
        if three_phase:
            self._schedule_phases = [
                {"end_step": p * t - 1, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": 2 * p * t - 2, "start_lr": "max_lr", "end_lr": "initial_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
                {"end_step": t - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                 "start_momentum": "max_momentum", "end_momentum": "max_momentum"},
            ]
        else:
            self._schedule_phases = [
                {"end_step": p * t - 1, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": t - 1, "start_lr": "max_lr", "end_lr": "min_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
            ]
        max_lrs = _per_group("OneCycleLR", "max_lr", max_lr, optimizer)
        if last_epoch == -1:
            for lr, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = lr / div_factor
                group["max_lr"] = lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
        if self.cycle_momentum:
            self.use_beta1 = _momentum_key("OneCycleLR", optimizer)
            maxes = _per_group("OneCycleLR", "max_momentum", max_momentum, optimizer)
            bases = _per_group("OneCycleLR", "base_momentum", base_momentum, optimizer)
            if last_epoch == -1:
                for m, b, group in zip(maxes, bases, optimizer.param_groups):
                    _set_momentum(group, self.use_beta1, m)
                    group["max_momentum"], group["base_momentum"] = m, b
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times; the specified number of total steps is "
                             f"{self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end = phase["end_step"]
                if step <= end or i == len(self._schedule_phases) - 1:
                    pct = (step - start) / (end - start)
                    lr = self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        momentum = self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                    break
                start = end
            lrs.append(lr)
            if self.cycle_momentum:
                _set_momentum(group, self.use_beta1, momentum)
        return lrs


class CyclicLR(LRScheduler):
    """Cycles the rate between ``base_lr`` and ``max_lr``: up over step_size_up steps, down over
    step_size_down (default the same). ``mode``: 'triangular' (constant amplitude), 'triangular2'
    (amplitude halved each cycle), 'exp_range' (amplitude times gamma ** step), or a custom
    ``scale_fn`` of the cycle number or the step (``scale_mode``). Momentum moves the opposite way
    between base_momentum and max_momentum. Call ``step()`` after every batch."""

    def __init__(self, optimizer: Optimizer, base_lr, max_lr, step_size_up: int = 2000,
                 step_size_down: Optional[int] = None, mode: str = "triangular", gamma: float = 1.0,
                 scale_fn: Optional[Callable[[float], float]] = None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum=0.8, max_momentum=0.9, last_epoch: int = -1):
        _check_optimizer("CyclicLR", optimizer)
        base_lrs = _per_group("CyclicLR", "base_lr", base_lr, optimizer)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = _per_group("CyclicLR", "max_lr", max_lr, optimizer)
        up = _number("CyclicLR", "step_size_up", step_size_up)
        down = up if step_size_down is None else _number("CyclicLR", "step_size_down", step_size_down)
        if up + down <= 0:
            raise ValueError("CyclicLR: step_size_up + step_size_down must be positive")
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"CyclicLR: mode {mode!r} is invalid and scale_fn is None; use 'triangular', "
                             "'triangular2', 'exp_range' or pass scale_fn")
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"CyclicLR: scale_fn must be callable, got {scale_fn!r}")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: scale_mode must be 'cycle' or 'iterations', got {scale_mode!r}")
        self.mode = mode
        self.gamma = _number("CyclicLR", "gamma", gamma)
        self._fn_scale = scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else \
            {"triangular": "cycle", "triangular2": "cycle", "exp_range": "iterations"}[mode]
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self.use_beta1 = _momentum_key("CyclicLR", optimizer)
            self.base_momentums = _per_group("CyclicLR", "base_momentum", base_momentum, optimizer)
            self.max_momentums = _per_group("CyclicLR", "max_momentum", max_momentum, optimizer)
            if last_epoch == -1:
                for m, b, group in zip(self.max_momentums, self.base_momentums, optimizer.param_groups):
                    _set_momentum(group, self.use_beta1, m)
                    group["max_momentum"], group["base_momentum"] = m, b
        self._cyclic_base_lrs = base_lrs
        super().__init__(optimizer, last_epoch)
        self.base_lrs = list(base_lrs)

    def _scale(self, x: float) -> float:
        if self._fn_scale is not None:
            return self._fn_scale(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1.0 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        cycle = math.floor(1 + t / self.total_size)
        x = 1.0 + t / self.total_size - cycle
        factor = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self._scale(cycle if self.scale_mode == "cycle" else t)
        lrs = [base + (top - base) * factor * scale for base, top in zip(self._cyclic_base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                _set_momentum(group, self.use_beta1, high - (high - low) * factor * scale)
        return lrs
