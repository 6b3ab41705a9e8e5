"""What ``fit(metrics=..., val_data=...)`` adds to a run: each metric per epoch on the training
batches (the sample-weighted mean over the epoch's batches, from the outputs the steps computed
anyway) and, with ``val_data``, the validation loss and metrics after each epoch (model in eval
mode, no graph recorded). The results go to ``History.metrics``, ``History.val_losses`` and
``History.val_metrics``. (A run resumed from a mid-epoch checkpoint keeps the earlier epochs' values; the
metrics of the epoch it resumes in cover the batches after the checkpoint.)
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from ._core import Tensor
from .grad_mode import no_grad

__all__ = ["EpochMetrics"]


def _batches(data: Any):
    if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], Tensor):
        return [tuple(data)]
    return data


def _size(X: Tensor) -> int:
    return int(X.shape[0]) if X.dim() > 0 else 1


class EpochMetrics:
    """Accumulates the metrics of one epoch's batches and records them (and the validation pass) in a History."""

    def __init__(self, metrics: Dict[str, Callable], val_data: Any, model: Callable, loss_fn: Callable, history):
        self.metrics, self.val_data, self.model, self.loss_fn, self.history = metrics, val_data, model, loss_fn, history
        for name in metrics:  # (a resumed History already holds the epochs before the checkpoint)
            history.metrics.setdefault(name, [])
            if val_data is not None:
                history.val_metrics.setdefault(name, [])
        self._reset()

    @classmethod
    def make(cls, metrics: Optional[Dict[str, Callable]], val_data: Any, model, loss_fn, history):
        if metrics is None and val_data is None:
            return None
        metrics = {} if metrics is None else metrics
        if not isinstance(metrics, dict) or not all(isinstance(k, str) and callable(f) for k, f in metrics.items()):
            raise TypeError("fit: metrics must be a dict of name -> function(output, target), e.g. "
                            "{'accuracy': gdcore.metrics.accuracy}")
        return cls(metrics, val_data, model, loss_fn, history)

    def _reset(self) -> None:
        self._totals = {name: 0.0 for name in self.metrics}
        self._count = 0

    def on_batch(self, output: Tensor, y: Any, X: Tensor) -> None:
        if not self.metrics:
            return
        n = _size(X)
        with no_grad():
            for name, fn in self.metrics.items():
                self._totals[name] += float(fn(output.detach(), y)) * n
        self._count += n

    def end_epoch(self) -> None:
        for name in self.metrics:
            self.history.metrics[name].append(self._totals[name] / self._count if self._count else float("nan"))
        self._reset()
        if self.val_data is not None:
            self._validate()

    def _validate(self) -> None:
        model = self.model
        was_training = getattr(model, "training", None)
        if hasattr(model, "eval") and callable(model.eval):
            model.eval()
        try:
            loss_total, totals, count = 0.0, {name: 0.0 for name in self.metrics}, 0
            with no_grad():
                for batch in _batches(self.val_data):
                    X, y = batch
                    output = model(X)
                    n = _size(X)
                    loss = self.loss_fn(output, y)
                    loss_total += float((loss if loss.numel() == 1 else loss.mean()).item()) * n
                    for name, fn in self.metrics.items():
                        totals[name] += float(fn(output, y)) * n
                    count += n
            if count == 0:
                raise ValueError("fit: val_data is empty")
        finally:
            if was_training and hasattr(model, "train"):
                model.train()
        self.history.val_losses.append(loss_total / count)
        for name in self.metrics:
            self.history.val_metrics[name].append(totals[name] / count)
