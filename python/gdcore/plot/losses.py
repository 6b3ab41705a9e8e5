"""Loss curves against epochs, one or several on one labelled plot (the chapter's train_ch11 plots).

What ``plot_losses`` accepts (its "curve protocol"):
- an object with a ``losses`` sequence and an ``epochs`` (or ``x``) sequence of the same length, such
  as the History that gdcore.train.fit returns; its ``label`` attribute, if any, names the curve;
- a plain sequence / numpy array / 1-D tensor of losses, drawn against epochs 1, 2, ..., n;
- a list of any of those (several curves), or a dict mapping a label to one of those.
A History from ``fit(metrics=..., val_data=...)`` also gets its validation loss (dashed) beside its
training loss and a second panel with its metrics per epoch (train solid, validation dashed).
"""
from __future__ import annotations

import numbers
from typing import Optional, Sequence

import numpy as np

from .._core import Tensor
from .figure import PathLike, finish, new_figure

__all__ = ["plot_losses"]


def _floats(values, what: str) -> np.ndarray:
    if isinstance(values, Tensor):
        values = values.detach().numpy()
    try:
        out = np.array([float(v) for v in values] if not isinstance(values, np.ndarray) else values,
                       dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"plot_losses: {what} must be a sequence of numbers, got {type(values).__name__}") from None
    if out.ndim != 1:
        raise ValueError(f"plot_losses: {what} must be one-dimensional, got shape {out.shape}; "
                         "pass several curves as a list or a dict")
    return out


def _is_history(obj) -> bool:
    return hasattr(obj, "losses") and not isinstance(obj, (np.ndarray, Tensor))


def _is_number(obj) -> bool:
    return isinstance(obj, numbers.Real) or (isinstance(obj, (Tensor, np.ndarray)) and obj.ndim == 0)


def _curve(obj, index: int) -> tuple[np.ndarray, np.ndarray, Optional[str]]:
    """(x, losses, default label) of one curve."""
    if _is_history(obj):
        losses = _floats(obj.losses, f"curve {index}'s losses")
        x = getattr(obj, "epochs", None)
        x = getattr(obj, "x", None) if x is None else x
        x = np.arange(1, losses.size + 1, dtype=np.float64) if x is None or len(x) == 0 else _floats(x, "epochs")
        label = getattr(obj, "label", None)
    else:
        losses = _floats(obj, f"curve {index}")
        x, label = np.arange(1, losses.size + 1, dtype=np.float64), None
    if x.size != losses.size:
        raise ValueError(f"plot_losses: curve {index} has {x.size} epochs but {losses.size} losses")
    return x, losses, label


def _curves(curves) -> list:
    if isinstance(curves, dict):
        return [(name, obj) for name, obj in curves.items()]
    if _is_history(curves) or isinstance(curves, (np.ndarray, Tensor)):
        return [(None, curves)]
    items = list(curves)
    if not items:
        raise ValueError("plot_losses: no curves given")
    if all(_is_number(v) for v in items):
        return [(None, items)]
    return [(None, obj) for obj in items]


def plot_losses(curves, labels: Optional[Sequence[str]] = None, path: Optional[PathLike] = None, *,
                xlabel: str = "epoch", ylabel: str = "loss", yscale: str = "linear", title: Optional[str] = None,
                figsize: tuple[float, float] = (3.5, 2.5)):
    """Draw one or several loss curves against epochs (see the module docstring for what ``curves`` may be).

    ``labels`` names the curves in order (a dict's keys or a History's ``label`` are used otherwise);
    ``yscale`` 'linear' or 'log'. Returns the matplotlib Figure; saves it to ``path`` when given.
    """
    if yscale not in ("linear", "log"):
        raise ValueError(f"plot_losses: yscale must be 'linear' or 'log', got {yscale!r}")
    named = _curves(curves)
    if labels is not None:
        labels = list(labels)
        if len(labels) != len(named):
            raise ValueError(f"plot_losses: got {len(labels)} labels for {len(named)} curves")
    with_metrics = any(_is_history(obj) and (getattr(obj, "metrics", None) or getattr(obj, "val_losses", None))
                       for _, obj in named)
    fig, ax = new_figure((figsize[0] * 2, figsize[1]) if with_metrics else figsize)
    metric_ax = fig.add_subplot(1, 2, 2) if with_metrics else None
    if metric_ax is not None:
        ax.set_subplotspec(fig.add_gridspec(1, 2)[0, 0])
    any_label = False
    for i, (name, obj) in enumerate(named):
        x, losses, default = _curve(obj, i)
        label = labels[i] if labels is not None else (name if name is not None else default)
        any_label = any_label or label is not None
        shown = "train" if label is None and with_metrics else label
        line, = ax.plot(x, losses, "-", label=None if shown is None else str(shown))
        if metric_ax is not None and _is_history(obj):
            _draw_metrics(ax, metric_ax, obj, line.get_color(), label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_yscale(yscale)
    if any_label or with_metrics:
        ax.legend()
    if metric_ax is not None:
        metric_ax.set_xlabel("epoch")
        metric_ax.set_ylabel("metric")
        metric_ax.legend()
    return finish(fig, path, title)


def _draw_metrics(loss_ax, metric_ax, history, color, label) -> None:
    """A History's validation loss (dashed, beside its training loss) and its metrics per epoch
    (train solid, validation dashed) on the second axes."""
    prefix = f"{label} " if label is not None else ""
    epochs = np.arange(1, len(history.train_losses) + 1, dtype=float)
    if history.val_losses:
        loss_ax.plot(epochs[:len(history.val_losses)], _floats(history.val_losses, "validation losses"), "--",
                     color=color, label=f"{prefix}validation")
    styles = ["-", "-.", ":"]
    for k, (name, values) in enumerate(history.metrics.items()):
        if values:
            metric_ax.plot(epochs[:len(values)], _floats(values, name), styles[k % 3], color=color,
                           label=f"{prefix}train {name}")
        val = history.val_metrics.get(name)
        if val:
            metric_ax.plot(epochs[:len(val)], _floats(val, name), "--", color=color, marker=".",
                           label=f"{prefix}validation {name}")
