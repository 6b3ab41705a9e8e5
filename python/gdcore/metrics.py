"""``gdcore.metrics``: classification metrics on a batch of model outputs: ``accuracy``,
``top_k_accuracy`` and ``confusion_matrix``.

They take the model's output as scores (N, C) (logits or probabilities; the largest is the
prediction) or as predicted labels (N,), and the true class indices (N,) (int64). They measure,
they do not train: nothing is recorded for autograd, and the result is a Python float (or, for the
confusion matrix, an int64 tensor). ``fit(metrics={"accuracy": gdcore.metrics.accuracy})`` calls
them on every batch.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from ._core import Tensor
from .creation import from_numpy

__all__ = ["accuracy", "top_k_accuracy", "confusion_matrix"]


def _labels(target, who: str) -> np.ndarray:
    t = target.detach().numpy() if isinstance(target, Tensor) else np.asarray(target)
    if t.ndim != 1:
        raise ValueError(f"{who}: target must be class indices of shape (N,), got shape {t.shape}")
    if t.dtype.kind == "f":
        if not np.all(t == np.round(t)):
            raise TypeError(f"{who}: target holds non-integer values; expected class indices (int64)")
        t = t.astype(np.int64)
    return t


def _scores(output, who: str) -> np.ndarray:
    return output.detach().numpy() if isinstance(output, Tensor) else np.asarray(output)


def _predictions(output, n: int, who: str) -> np.ndarray:
    """Predicted labels from scores (N, C) (argmax over dim 1) or labels (N,)."""
    out = _scores(output, who)
    if out.ndim == 2:
        if out.shape[0] != n:
            raise ValueError(f"{who}: output has {out.shape[0]} rows but target has {n} labels")
        return out.argmax(axis=1)
    if out.ndim == 1:
        if out.shape[0] != n:
            raise ValueError(f"{who}: output has {out.shape[0]} labels but target has {n}")
        return out
    raise ValueError(f"{who}: output must be scores (N, C) or labels (N,), got shape {out.shape}")


def accuracy(output, target) -> float:
    """The fraction of samples whose prediction equals the target: output scores (N, C) (logits or
    probabilities, the argmax is the prediction) or predicted labels (N,); target (N,) class indices."""
    t = _labels(target, "accuracy")
    if t.shape[0] == 0:
        raise ValueError("accuracy: no samples (target is empty)")
    return float(np.mean(_predictions(output, t.shape[0], "accuracy") == t))


def top_k_accuracy(output, target, k: int = 5) -> float:
    """The fraction of samples whose target is among the k largest scores of output (N, C).
    Ties at the k-th score count in the sample's favour only as far as k places allow (argsort order)."""
    t = _labels(target, "top_k_accuracy")
    out = _scores(output, "top_k_accuracy")
    if out.ndim != 2 or out.shape[0] != t.shape[0]:
        raise ValueError(f"top_k_accuracy: output must be scores (N, C) with N = {t.shape[0]} (the targets), got "
                         f"shape {out.shape}")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= out.shape[1]:
        raise ValueError(f"top_k_accuracy: k must be an int in 1..{out.shape[1]} (the number of classes), got {k!r}")
    if t.shape[0] == 0:
        raise ValueError("top_k_accuracy: no samples (target is empty)")
    top = np.argsort(-out, axis=1, kind="stable")[:, :k]
    return float(np.mean((top == t[:, None]).any(axis=1)))


def confusion_matrix(output, target, num_classes: Optional[int] = None) -> Tensor:
    """An int64 tensor (C, C): entry [i, j] counts samples of true class i predicted as j (rows are
    the truth, as scikit-learn). output: scores (N, C) or predicted labels (N,); C is num_classes,
    else the score columns, else 1 + the largest label seen."""
    t = _labels(target, "confusion_matrix")
    pred = _predictions(output, t.shape[0], "confusion_matrix").astype(np.int64)
    out = _scores(output, "confusion_matrix")
    if num_classes is None:
        num_classes = out.shape[1] if out.ndim == 2 else int(max(t.max(initial=-1), pred.max(initial=-1)) + 1)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"confusion_matrix: num_classes must be a positive int, got {num_classes!r}")
    for name, v in (("target", t), ("prediction", pred)):
        bad = v[(v < 0) | (v >= num_classes)]
        if bad.size:
            raise IndexError(f"confusion_matrix: {name} {int(bad[0])} is out of range for {num_classes} classes")
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (t, pred), 1)
    return from_numpy(matrix)
