"""A scatter of data points with a fitted line through them: the picture at the end of every
linear-regression workflow (by hand, by autograd, or by an nn.Linear model)."""
from __future__ import annotations

from typing import Callable, Optional, Union

import numpy as np

from .. import _core
from .._core import Tensor
from ..grad_mode import no_grad
from .figure import PathLike, finish, new_figure

__all__ = ["plot_fit"]


def _column(values, name: str) -> np.ndarray:
    if isinstance(values, Tensor):
        values = values.detach().numpy()
    try:
        out = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"plot_fit: {name} must be numbers (a tensor, array or list), "
                        f"got {type(values).__name__}") from None
    if out.ndim == 2 and 1 in out.shape:
        out = out.reshape(-1)
    if out.ndim != 1:
        raise ValueError(f"plot_fit: {name} must be one-dimensional (or (N, 1)), got shape {out.shape}")
    return out


def _predict(predict: Callable, grid: np.ndarray) -> np.ndarray:
    """predict on the grid, called the way it accepts: with a numpy (N,) array, or with a gdcore tensor
    of shape (N, 1) or (N,) in float32 then float64 (a model such as nn.Linear(1, 1))."""
    candidates = [lambda: grid]
    for dtype in (_core.dtype.float32, _core.dtype.float64):
        candidates.append(lambda dtype=dtype: _core._tensor(grid.reshape(-1, 1), dtype, False))
        candidates.append(lambda dtype=dtype: _core._tensor(grid, dtype, False))
    first_error = None
    with no_grad():
        for make_input in candidates:
            try:
                out = predict(make_input())
                out = np.array(out.detach().numpy() if isinstance(out, Tensor) else out, dtype=np.float64)
            except Exception as e:  # noqa: BLE001  (try the next calling convention)
                first_error = first_error or e
                continue
            if out.size == grid.size:
                return out.reshape(-1)
    raise TypeError("plot_fit: could not call the prediction function: it should take a numpy array of shape (N,) "
                    "or a tensor of shape (N, 1) and return N values"
                    + (f" (first error: {type(first_error).__name__}: {first_error})" if first_error else ""))


def plot_fit(x, y, predict_or_line: Union[Callable, object], path: Optional[PathLike] = None, *,
             label: str = "fit", xlabel: str = "x", ylabel: str = "y", title: Optional[str] = None,
             figsize: tuple[float, float] = (3.5, 2.5)):
    """Scatter the points (x, y) and draw the fitted line.

    ``x``, ``y``: N numbers each (tensors, arrays or lists; (N, 1) columns are accepted).
    ``predict_or_line``: either a function (x -> y_hat: a Python function on numpy arrays, or a model
    taking an (N, 1) tensor) drawn over the range of x, or N predicted values at x, joined in order of x.
    Returns the matplotlib Figure; saves it to ``path`` when given.
    """
    x, y = _column(x, "x"), _column(y, "y")
    if x.size != y.size:
        raise ValueError(f"plot_fit: x has {x.size} values but y has {y.size}")
    if x.size == 0:
        raise ValueError("plot_fit: no points to draw")
    if callable(predict_or_line):
        line_x = np.linspace(float(x.min()), float(x.max()), 200)
        line_y = _predict(predict_or_line, line_x)
    else:
        line_y = _column(predict_or_line, "the fitted values")
        if line_y.size != x.size:
            raise ValueError(f"plot_fit: got {line_y.size} fitted values for {x.size} points; pass one per point "
                             "or a prediction function")
        order = np.argsort(x, kind="stable")
        line_x, line_y = x[order], line_y[order]
    fig, ax = new_figure(figsize)
    ax.scatter(x, y, s=12, label="data")
    ax.plot(line_x, line_y, "-", color="#ff7f0e", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return finish(fig, path, title)
