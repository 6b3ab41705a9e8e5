"""The learning-rate range test (Smith 2015; fastai's and Lightning's lr finder): train for a few steps with
a learning rate that grows exponentially from ``start_lr`` to ``end_lr``, record the loss, and read off where
it falls fastest. The loss is smoothed with an exponential moving average (debiased, as fastai does) and the
sweep stops once the smoothed loss exceeds ``diverge_factor`` times its best (the lr has become too large).

The sweep changes the model and the optimizer; ``lr_find`` restores both afterwards bit for bit: the
parameters and buffers, their ``.grad``, the optimizer's state (momentum buffers, step counts) and its
parameter groups, and the random generator the loader shuffles with, so training after it is the same as
training without it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from . import _core
from ._core import Tensor

__all__ = ["LRFinderResult", "lr_find"]


@dataclass
class LRFinderResult:
    """``lrs`` and ``losses`` (raw) and ``smoothed`` per step of the sweep; ``suggestion``: the lr where the
    smoothed loss falls fastest against log(lr) (None with fewer than 3 steps); ``lr_min``: the lr of the lowest
    smoothed loss; ``diverged``: whether the sweep stopped early because the loss blew up."""
    lrs: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    smoothed: list = field(default_factory=list)
    suggestion: Optional[float] = None
    lr_min: Optional[float] = None
    diverged: bool = False

    def __str__(self) -> str:
        where = f"suggested lr {self.suggestion:.3g}" if self.suggestion is not None else "no suggestion"
        stop = "stopped when the loss diverged" if self.diverged else "ran to end_lr"
        return f"lr range test: {len(self.lrs)} steps from lr {self.lrs[0]:.3g} to {self.lrs[-1]:.3g}, {stop}; {where}"


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"lr_find: {name} must be a positive finite number, got {value!r}")
    return float(value)


class _Snapshot:
    """Everything lr_find changes, copied, and put back."""

    def __init__(self, model: Any, optimizer: Any, loader: Any):
        self.model, self.optimizer = model, optimizer
        self.params = [p for p in model.parameters()]
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.grads = [None if p.grad is None else p.grad.detach().clone() for p in self.params]
        self.optim = optimizer.state_dict()
        self.generator = getattr(loader, "generator", None)
        if self.generator is None and getattr(loader, "shuffle", False):
            self.generator = _core.default_generator()
        self.rng = self.generator.get_state() if self.generator is not None else None

    def restore(self) -> None:
        self.model.load_state_dict(self.state)
        for p, g in zip(self.params, self.grads):
            p.grad = g
        self.optimizer.load_state_dict(self.optim)
        if self.generator is not None:
            self.generator.set_state(self.rng)


def _batches(loader: Any):
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("lr_find: the loader yields no batches")


def lr_find(model: Any, loss_fn: Callable, optimizer: Any, loader: Any, start_lr: float = 1e-7,
            end_lr: float = 10.0, num_steps: int = 100, *, smooth: float = 0.98,
            diverge_factor: float = 4.0) -> LRFinderResult:
    """Run the learning-rate range test and restore ``model`` and ``optimizer`` afterwards.

    Step i (0-based) sets every parameter group's lr to start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))
    and takes one training step as ``fit`` does (zero_grad, loss = loss_fn(model(X), y), backward, step) on the
    next batch of ``loader`` (cycled when shorter than num_steps). ``smooth`` is the moving-average factor of
    the loss (0 = no smoothing); the sweep stops after a non-finite loss or a smoothed loss above
    ``diverge_factor`` times the best. Returns an :class:`LRFinderResult`; ``gdcore.plot.lr_find`` draws it.
    """
    start_lr, end_lr = _positive("start_lr", start_lr), _positive("end_lr", end_lr)
    if end_lr <= start_lr:
        raise ValueError(f"lr_find: end_lr must be larger than start_lr, got start_lr={start_lr:g} end_lr={end_lr:g}")
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 2:
        raise ValueError(f"lr_find: num_steps must be an integer >= 2, got {num_steps!r}")
    if isinstance(smooth, bool) or not isinstance(smooth, (int, float)) or not 0 <= smooth < 1:
        raise ValueError(f"lr_find: smooth must be in [0, 1), got {smooth!r}")
    if _positive("diverge_factor", diverge_factor) <= 1:
        raise ValueError(f"lr_find: diverge_factor must be larger than 1, got {diverge_factor!r}")
    for name in ("state_dict", "load_state_dict", "parameters"):
        if not callable(getattr(model, name, None)):
            raise TypeError(f"lr_find: the model must be an nn.Module (it needs {name}() to be restored), got "
                            f"{type(model).__name__}")
    for name in ("zero_grad", "step", "state_dict", "load_state_dict"):
        if not callable(getattr(optimizer, name, None)):
            raise TypeError(f"lr_find: the optimizer needs {name}(), got {type(optimizer).__name__}")

    result = LRFinderResult()
    snapshot = _Snapshot(model, optimizer, loader)
    average, best = 0.0, math.inf
    try:
        batches = _batches(loader)
        for i in range(num_steps):
            lr = start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))
            for group in optimizer.param_groups:
                group["lr"] = lr
            X, y = next(batches)
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            if isinstance(loss, Tensor) and loss.numel() > 1:
                loss = loss.mean()
            value = float(loss.item()) if isinstance(loss, Tensor) else float(loss)
            if not math.isfinite(value):
                result.diverged = True
                break
            loss.backward()
            optimizer.step()
            average = smooth * average + (1 - smooth) * value
            smoothed = average / (1 - smooth ** (i + 1))
            result.lrs.append(lr)
            result.losses.append(value)
            result.smoothed.append(smoothed)
            best = min(best, smoothed)
            if smoothed > diverge_factor * best:
                result.diverged = True
                break
    finally:
        snapshot.restore()
    if not result.lrs:
        raise ValueError(f"lr_find: the loss was not finite at the first step (lr={start_lr:g}); check the data and "
                         "the model, or lower start_lr")
    smoothed = np.array(result.smoothed)
    result.lr_min = result.lrs[int(np.argmin(smoothed))]
    if len(smoothed) >= 3:
        # The steepest fall of the smoothed loss against log(lr), leaving out the first tenth of the sweep (where
        # the moving average is still settling) and the last point (where it may already be blowing up).
        slope = np.gradient(smoothed, np.log(np.array(result.lrs)))
        first, last = max(1, len(slope) // 10), len(slope) - 1
        result.suggestion = result.lrs[first + int(np.argmin(slope[first:last]))]
    return result
