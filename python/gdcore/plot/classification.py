"""Pictures for classifiers: ``decision_boundary`` (the regions a model assigns to each class over a
2-D input plane, with the samples on top) and ``confusion_matrix`` (counts of true against
predicted class, as a labelled heat map). Each returns the matplotlib Figure and saves it when
given path=."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from .._core import Tensor
from ..creation import float32, from_numpy
from ..grad_mode import no_grad
from .figure import PathLike, finish, new_figure

__all__ = ["decision_boundary", "confusion_matrix"]


def _numpy(values, what: str) -> np.ndarray:
    return values.detach().numpy() if isinstance(values, Tensor) else np.asarray(values)


def decision_boundary(model, X, y, path: Optional[PathLike] = None, *, resolution: int = 200, margin: float = 0.5,
                      title: Optional[str] = None, figsize: tuple = (3.5, 3.0), dtype=float32):
    """The class ``model`` predicts at each point of a resolution x resolution grid covering the
    samples X (N, 2) (plus ``margin``), drawn as coloured regions, with the samples coloured by
    their labels y (N,). The model maps (M, 2) inputs to scores (M, C) (argmax is the class) or to
    one logit per sample (M,) or (M, 1) (class 1 where it is > 0). Runs the model in eval mode and
    without recording a graph, in one batch."""
    x = _numpy(X, "X").astype(np.float64)
    labels = _numpy(y, "y").reshape(-1)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"decision_boundary: X must have shape (N, 2) (two input features), got {x.shape}")
    if labels.shape[0] != x.shape[0]:
        raise ValueError(f"decision_boundary: {labels.shape[0]} labels for {x.shape[0]} samples")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"decision_boundary: resolution must be an int >= 2, got {resolution!r}")
    lo, hi = x.min(axis=0) - margin, x.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = from_numpy(np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32 if dtype == float32 else np.float64))
    was_training = getattr(model, "training", None)
    if hasattr(model, "eval") and callable(model.eval):
        model.eval()
    try:
        with no_grad():
            scores = _numpy(model(grid), "output")
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    if scores.ndim == 2 and scores.shape[1] > 1:
        predicted = scores.argmax(axis=1)
    elif scores.size == grid.shape[0]:
        predicted = (scores.reshape(-1) > 0).astype(np.int64)
    else:
        raise ValueError(f"decision_boundary: the model returned shape {scores.shape} for {grid.shape[0]} points; "
                         "expected scores (M, C) or one logit per point")
    classes = int(max(predicted.max(), labels.max())) + 1
    fig, ax = new_figure(figsize)
    levels = np.arange(classes + 1) - 0.5
    ax.contourf(gx, gy, predicted.reshape(gx.shape), levels=levels, cmap="tab10", vmin=-0.5, vmax=9.5, alpha=0.3)
    ax.scatter(x[:, 0], x[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=8, edgecolors="k", linewidths=0.2)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return finish(fig, path, title)


def confusion_matrix(matrix, class_names: Optional[Sequence[str]] = None, path: Optional[PathLike] = None, *,
                     normalize: bool = False, title: Optional[str] = None, figsize: tuple = (3.5, 3.0)):
    """A (C, C) confusion matrix (rows: true class, columns: predicted; e.g. from
    gdcore.metrics.confusion_matrix) as a heat map with the counts written in each cell;
    ``normalize`` shows each row as fractions of its true class instead."""
    m = _numpy(matrix, "matrix").astype(np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise ValueError(f"confusion_matrix: expected a square (C, C) matrix, got shape {m.shape}")
    c = m.shape[0]
    names = [str(i) for i in range(c)] if class_names is None else [str(n) for n in class_names]
    if len(names) != c:
        raise ValueError(f"confusion_matrix: {len(names)} class names for a {c} x {c} matrix")
    shown = m / np.maximum(m.sum(axis=1, keepdims=True), 1) if normalize else m
    fig, ax = new_figure(figsize)
    image = ax.imshow(shown, cmap="Blues")
    fig.colorbar(image, ax=ax)
    ax.set_xticks(range(c), names, rotation=45 if c > 4 else 0, ha="right" if c > 4 else "center")
    ax.set_yticks(range(c), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if c <= 20:
        top = shown.max() if shown.size else 0
        for i in range(c):
            for j in range(c):
                text = f"{shown[i, j]:.2f}" if normalize else f"{int(m[i, j])}"
                ax.text(j, i, text, ha="center", va="center", fontsize=7,
                        color="white" if top and shown[i, j] > top / 2 else "black")
    return finish(fig, path, title)
