"""Pictures of an optimizer's path, as the chapter draws them: show_trace puts the iterates of a
1-D run on the curve of f, show_trace_2d draws the iterates of a 2-D run over the contours of f.
Both take an OptimizeResult from gdcore.optimize (or a plain array of iterates)."""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from .evaluate import evaluate_on_points
from .figure import PathLike, finish, new_figure

__all__ = ["show_trace", "show_trace_2d"]

LINE_COLOR, PATH_COLOR = "#1f77b4", "#ff7f0e"


def _iterates(result, dims: int, caller: str) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """(iterates as an (k+1, dims) array, f at them or None) from a result or an array of iterates."""
    trace = getattr(result, "trace", None)
    xs = np.asarray(trace.x if trace is not None else result, dtype=np.float64)
    fx = np.asarray(trace.fx, dtype=np.float64) if trace is not None else None
    if dims == 1 and xs.ndim == 2 and xs.shape[1] == 1:
        xs = xs[:, 0]
    if dims == 1 and xs.ndim == 1:
        xs = xs[:, None]
    if xs.ndim != 2 or xs.shape[1] != dims or xs.shape[0] == 0:
        hint = ""
        if dims == 1 and xs.ndim == 2 and xs.shape[1] == 2:
            hint = "; use show_trace_2d for 2-D ones"
        elif dims == 2 and (xs.ndim == 1 or (xs.ndim == 2 and xs.shape[1] == 1)):
            hint = "; use show_trace for 1-D ones"
        raise ValueError(f"{caller}: needs the iterates of a {dims}-D problem, got iterates of shape {xs.shape}{hint}")
    return xs, fx


def _finite_rows(xs: np.ndarray) -> np.ndarray:
    finite = xs[np.all(np.isfinite(xs), axis=1)]
    if finite.size == 0:
        raise ValueError("no finite iterate to draw: the run diverged at once")
    return finite


def show_trace(result, f: Callable, path: Optional[PathLike] = None, *, title: Optional[str] = None,
               figsize: tuple[float, float] = (3.5, 2.5)):
    """Draw f over the range of a 1-D run and the iterates on it (x_0, x_1, ... joined in order).

    ``result``: an OptimizeResult of a scalar problem, or the iterates as a sequence of shape (k+1,).
    ``f``: the function the run minimised (it gets 0-d float64 tensors, or a 1-D tensor of grid points
    when it works elementwise). Returns the matplotlib Figure; saves it to ``path`` when given.
    """
    xs, fx = _iterates(result, 1, "show_trace")
    finite = _finite_rows(xs)[:, 0]
    reach = float(np.max(np.abs(finite)))
    lo, hi = float(finite.min()), float(finite.max())
    if reach > 0 and hi - lo >= reach / 4:  # near the origin: the chapter's symmetric window [-n, n]
        lo, hi = -reach, reach
    else:  # far from it: the iterates' own range, padded
        pad = 0.1 * (hi - lo) if hi > lo else max(1.0, 0.1 * abs(lo))
        lo, hi = lo - pad, hi + pad
    grid = np.linspace(lo, hi, 400)
    if fx is None:
        fx = evaluate_on_points(f, xs)
    fig, ax = new_figure(figsize)
    ax.plot(grid, evaluate_on_points(f, grid[:, None]), "-", color=LINE_COLOR)
    ax.plot(xs[:, 0], fx, "-o", color=PATH_COLOR, markersize=4)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    return finish(fig, path, title)


def show_trace_2d(result, f: Callable, path: Optional[PathLike] = None, *, title: Optional[str] = None,
                  figsize: tuple[float, float] = (3.5, 2.5), grid_points: int = 80):
    """Draw the contours of f around a 2-D run and the path of its iterates.

    ``result``: an OptimizeResult of a 2-D problem, or the iterates as an array of shape (k+1, 2).
    ``f``: the function the run minimised (it gets (2,) float64 tensors, or a (2, N) tensor when it
    works elementwise). ``grid_points`` per axis set the contour resolution. Returns the Figure;
    saves it to ``path`` when given.
    """
    xs, _ = _iterates(result, 2, "show_trace_2d")
    finite = _finite_rows(xs)
    low, high = finite.min(axis=0), finite.max(axis=0)
    pad = max(0.15 * float(np.max(high - low)), 0.5)
    x1 = np.linspace(low[0] - pad, high[0] + pad, grid_points)
    x2 = np.linspace(low[1] - pad, high[1] + pad, grid_points)
    g1, g2 = np.meshgrid(x1, x2)
    values = evaluate_on_points(f, np.stack([g1.ravel(), g2.ravel()], axis=1)).reshape(g1.shape)
    fig, ax = new_figure(figsize)
    ax.contour(g1, g2, values, colors=LINE_COLOR, levels=12)
    ax.plot(xs[:, 0], xs[:, 1], "-o", color=PATH_COLOR, markersize=3)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return finish(fig, path, title)
