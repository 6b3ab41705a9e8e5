"""Curvature during ``gdcore.train.fit``: ``check_lr`` (the advisor on the first batch, before the first
update) and ``track_sharpness=N`` (lambda_max every N steps, into the History).

Sharpness is measured on the first training batch, kept for the whole run: the curve then shows how
the model's curvature changes, not how one mini-batch differs from the next. Each record is a warm-started
Lanczos run (from the previous top eigenvector, so a few products suffice), with its own random generator
and through ``autograd.grad``: neither the global random stream nor any ``.grad`` changes, so a run with
tracking follows exactly the same trajectory as one without. Next to each value the History keeps the
sharpness at which the optimizer's current lr becomes unstable (2 / lr for SGD, 2 (1 + beta) / lr with
momentum; nan for optimizers without such a bound), which ``gdcore.plot.sharpness`` draws.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional

from .. import _core
from .advisor import batch_closure, check_learning_rate, critical_sharpness, model_parameters, sgd_settings
from .eigen import top_eigenvalues

__all__ = ["FitCurvature"]

TRACK_MAX_ITER, TRACK_TOL = 30, 1e-3


class FitCurvature:
    """The curvature options of one fit run; ``before_step(X, y)`` runs before each update, ``after_step(step)``
    after it."""

    def __init__(self, check_lr: Any, track_sharpness: Optional[int], model: Any, loss_fn: Callable,
                 optimizer: Any, history: Any):
        self.check_lr, self.every = check_lr, track_sharpness
        self.model, self.loss_fn, self.optimizer, self.history = model, loss_fn, optimizer, history
        self.batch = None
        self.generator = _core.Generator(0)
        self.vector = None
        if check_lr:
            sgd_settings(optimizer, "fit(check_lr)")          # refuse Adam & co. before any data is read
        if track_sharpness is not None:
            self.params = model_parameters(model, "fit(track_sharpness)")

    @staticmethod
    def make(check_lr: Any, track_sharpness: Any, model: Any, loss_fn: Callable, optimizer: Any,
             history: Any) -> Optional["FitCurvature"]:
        """A FitCurvature, or None when neither option is on (validating both)."""
        if check_lr not in (False, True, None, "error"):
            raise ValueError(f"fit: check_lr must be False, True (warn) or 'error' (raise), got {check_lr!r}")
        if track_sharpness is not None and (isinstance(track_sharpness, bool) or not isinstance(track_sharpness, int)
                                            or track_sharpness < 1):
            raise ValueError(f"fit: track_sharpness must be a positive integer number of steps (or None), got "
                             f"{track_sharpness!r}")
        if not check_lr and track_sharpness is None:
            return None
        return FitCurvature(check_lr, track_sharpness, model, loss_fn, optimizer, history)

    def before_step(self, X: Any, y: Any) -> None:
        if self.batch is not None:
            return
        self.batch = (X, y)
        if self.check_lr:
            check_learning_rate(self.model, self.loss_fn, self.optimizer, self.batch, self.check_lr)
        if self.every is not None:
            self._record(self.history.steps)  # 0, or where a resumed run (fit(resume=True)) starts

    def after_step(self, step: int) -> None:
        if self.every is not None and step % self.every == 0:
            self._record(step)

    def _limit(self) -> float:
        groups = getattr(self.optimizer, "param_groups", None)
        from ..optim import SGD
        if not isinstance(self.optimizer, SGD) or not groups:
            return math.nan
        g = groups[0]
        return critical_sharpness(g["lr"], g["momentum"], g["dampening"], g["nesterov"], g["weight_decay"])

    def _record(self, step: int) -> None:
        closure = batch_closure(self.model, self.loss_fn, *self.batch)
        try:
            top = top_eigenvalues(closure, self.params, k=1, max_iter=TRACK_MAX_ITER, tol=TRACK_TOL,
                                  generator=self.generator, init=self.vector)
        except FloatingPointError:
            value = math.nan        # the parameters went non-finite: fit's own checks report the divergence
        else:
            value, self.vector = top.eigenvalues[0], top.eigenvectors[0]
        self.history.sharpness_steps.append(step)
        self.history.sharpness.append(value)
        self.history.sharpness_limits.append(self._limit())
