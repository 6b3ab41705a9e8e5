"""Pictures of the curvature tools: ``sharpness`` draws the Hessian's largest eigenvalue recorded by
``fit(track_sharpness=N)`` against the step, with the limit 2 / lr above which the learning rate is unstable
(the "edge of stability" is the sharpness rising until it meets that line); ``lr_find`` draws the loss of a
learning-rate range test against the learning rate on a log axis, with the suggested rate marked."""
from __future__ import annotations

from typing import Optional

import numpy as np

from .figure import PathLike, finish, new_figure

__all__ = ["sharpness", "lr_find"]

LINE_COLOR, LIMIT_COLOR, MARK_COLOR = "#1f77b4", "#d62728", "#ff7f0e"


def sharpness(history, path: Optional[PathLike] = None, *, title: Optional[str] = None,
              figsize: tuple[float, float] = (3.5, 2.5), yscale: str = "linear"):
    """Draw ``history.sharpness`` (lambda_max) against ``history.sharpness_steps`` and the stability limit
    ``history.sharpness_limits`` (2 / lr for SGD; left out when nan, as for Adam).

    ``history``: the History of ``fit(..., track_sharpness=N)``. Returns the Figure; saves it to ``path``.
    """
    if yscale not in ("linear", "log"):
        raise ValueError(f"plot.sharpness: yscale must be 'linear' or 'log', got {yscale!r}")
    values = getattr(history, "sharpness", None)
    if values is None:
        raise TypeError(f"plot.sharpness: expected the History of fit(..., track_sharpness=N), got "
                        f"{type(history).__name__}")
    if len(values) == 0:
        raise ValueError("plot.sharpness: the history has no sharpness records; pass track_sharpness=N to fit")
    steps = np.asarray(history.sharpness_steps, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    limits = np.asarray(history.sharpness_limits, dtype=np.float64)
    fig, ax = new_figure(figsize)
    ax.plot(steps, values, "-o", color=LINE_COLOR, markersize=2.5, label="sharpness (max eigenvalue)")
    if np.any(np.isfinite(limits)):
        ax.plot(steps, limits, "--", color=LIMIT_COLOR, label="stability limit (2 / lr)")
    ax.set_xlabel("step")
    ax.set_ylabel("sharpness")
    ax.set_yscale(yscale)
    ax.legend(fontsize="small")
    return finish(fig, path, title)


def lr_find(result, path: Optional[PathLike] = None, *, title: Optional[str] = None,
            figsize: tuple[float, float] = (3.5, 2.5)):
    """Draw a learning-rate range test (the result of ``gdcore.train.lr_find``): raw and smoothed loss against
    the learning rate (log axis), the suggestion marked. Returns the Figure; saves it to ``path``."""
    lrs = getattr(result, "lrs", None)
    if lrs is None or not hasattr(result, "smoothed"):
        raise TypeError(f"plot.lr_find: expected the result of gdcore.train.lr_find, got {type(result).__name__}")
    if len(lrs) == 0:
        raise ValueError("plot.lr_find: the result has no steps to draw")
    lrs = np.asarray(lrs, dtype=np.float64)
    smoothed = np.asarray(result.smoothed, dtype=np.float64)
    fig, ax = new_figure(figsize)
    ax.plot(lrs, np.asarray(result.losses, dtype=np.float64), "-", color=LINE_COLOR, alpha=0.3, label="loss")
    ax.plot(lrs, smoothed, "-", color=LINE_COLOR, label="smoothed")
    if result.suggestion is not None:
        i = int(np.argmin(np.abs(lrs - result.suggestion)))
        ax.plot([lrs[i]], [smoothed[i]], "o", color=MARK_COLOR, label=f"suggested lr {result.suggestion:.2g}")
    # The last steps of a sweep blow up; scale the y axis to the smoothed curve up to its minimum (fastai does too).
    low = float(np.min(smoothed))
    high = float(np.max(smoothed[:int(np.argmin(smoothed)) + 1]))
    if high > low:
        span = high - low
        ax.set_ylim(low - 0.1 * span, high + 0.5 * span)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    ax.legend(fontsize="small")
    return finish(fig, path, title)
