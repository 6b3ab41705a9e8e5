"""The optimizer race: several optimizers started from one point of a 2-D function, their paths drawn over
its contours, as a still image or, with ``animate=True``, a GIF (matplotlib's PillowWriter) in which the
paths grow step by step. Three classic race tracks are built in: Rosenbrock's banana valley, Beale's
function with its flat plateaus and steep walls, and the chapter's ill-conditioned quadratic
0.1 x1^2 + 2 x2^2 (where momentum's advantage over plain gradient descent is plain to see).

Each optimizer is a real gdcore.optim optimizer stepping a (2,) float64 tensor, so the race shows exactly
what those classes do. A path stops at the first non-finite loss or iterate (the optimizer diverged).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Optional, Union

import numpy as np

from .. import _core
from ..grad_mode import enable_grad
from .evaluate import evaluate_on_points
from .figure import PathLike, finish, new_figure

__all__ = ["rosenbrock", "beale", "ill_conditioned_quadratic", "RaceTrack", "RACE_TRACKS", "RaceRun",
           "race_trajectories", "optimizer_race"]


def rosenbrock(x):
    """(1 - x1)^2 + 100 (x2 - x1^2)^2; minimum 0 at (1, 1), at the end of a long curved valley."""
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def beale(x):
    """(1.5 - x1 + x1 x2)^2 + (2.25 - x1 + x1 x2^2)^2 + (2.625 - x1 + x1 x2^3)^2; minimum 0 at (3, 0.5)."""
    return ((1.5 - x[0] + x[0] * x[1]) ** 2 + (2.25 - x[0] + x[0] * x[1] ** 2) ** 2
            + (2.625 - x[0] + x[0] * x[1] ** 3) ** 2)


def ill_conditioned_quadratic(x):
    """0.1 x1^2 + 2 x2^2 (the chapter's momentum example): curvatures 0.2 and 4, condition number 20."""
    return 0.1 * x[0] ** 2 + 2 * x[1] ** 2


@dataclass(frozen=True)
class RaceTrack:
    """A built-in function with its usual start, its minimum and the window drawn around them."""
    f: Callable
    start: tuple
    minimum: tuple
    window: tuple          # ((x1 low, x1 high), (x2 low, x2 high))


RACE_TRACKS = {
    "rosenbrock": RaceTrack(rosenbrock, (-1.5, 2.0), (1.0, 1.0), ((-2.0, 2.0), (-1.0, 3.0))),
    "beale": RaceTrack(beale, (1.0, 1.5), (3.0, 0.5), ((-1.0, 4.5), (-1.5, 2.0))),
    "quadratic": RaceTrack(ill_conditioned_quadratic, (-5.0, -2.0), (0.0, 0.0), ((-6.0, 2.0), (-3.0, 3.0))),
}


@dataclass
class RaceRun:
    """One optimizer's path: ``points`` (m, 2) iterates x_0..x_{m-1}, ``losses`` (m,) f at them,
    ``diverged_at`` the step whose loss or iterate was non-finite (None when the run finished)."""
    points: np.ndarray
    losses: np.ndarray
    diverged_at: Optional[int] = None


def _track(f: Union[str, Callable]) -> tuple:
    if isinstance(f, str):
        if f not in RACE_TRACKS:
            raise ValueError(f"optimizer_race: unknown function {f!r}; the built-in ones are {sorted(RACE_TRACKS)}, "
                             "or pass a function of a (2,) tensor")
        return RACE_TRACKS[f].f, RACE_TRACKS[f]
    if not callable(f):
        raise TypeError(f"optimizer_race: f must be a function of a (2,) tensor or one of {sorted(RACE_TRACKS)}, got "
                        f"{type(f).__name__}")
    return f, None


def _start(x0, track: Optional[RaceTrack]) -> np.ndarray:
    if x0 is None:
        if track is None:
            raise ValueError("optimizer_race: x0 is required for your own f (only the built-in functions have a "
                             "default start)")
        x0 = track.start
    start = np.asarray(x0.tolist() if isinstance(x0, _core.Tensor) else x0, dtype=np.float64)
    if start.shape != (2,) or not np.all(np.isfinite(start)):
        raise ValueError(f"optimizer_race: x0 must be two finite numbers (a point of the plane), got {x0!r}")
    return start


def race_trajectories(f: Union[str, Callable], x0, optimizers: dict, steps: int) -> dict:
    """Run each optimizer of ``optimizers`` (name -> a function that builds it from a parameter list, e.g.
    ``lambda p: optim.SGD(p, lr=1e-3)``) for ``steps`` steps on ``f`` from ``x0``; returns name -> RaceRun."""
    func, track = _track(f)
    start = _start(x0, track)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"optimizer_race: steps must be a positive integer, got {steps!r}")
    if not isinstance(optimizers, dict) or not optimizers:
        raise TypeError("optimizer_race: optimizers must be a non-empty dict of name -> function building the "
                        "optimizer, e.g. {'SGD': lambda p: gdcore.optim.SGD(p, lr=1e-3)}")
    runs = {}
    for name, build in optimizers.items():
        if not callable(build) or (hasattr(build, "step") and not isinstance(build, type)):   # an instance
            raise TypeError(f"optimizer_race: optimizers[{name!r}] must be a function that builds the optimizer from "
                            f"a parameter list (e.g. lambda p: gdcore.optim.Adam(p, lr=0.1)), got "
                            f"{type(build).__name__}")
        x = _core._tensor(start.copy(), _core.dtype.float64, True)
        opt = build([x])
        if not (callable(getattr(opt, "step", None)) and callable(getattr(opt, "zero_grad", None))):
            raise TypeError(f"optimizer_race: optimizers[{name!r}]([x]) returned {type(opt).__name__}, not an "
                            "optimizer with step() and zero_grad()")
        points, losses, diverged = [start.copy()], [], None
        for step in range(steps + 1):
            opt.zero_grad()
            with enable_grad():
                loss = func(x)
            value = float(loss.item())
            if not np.isfinite(value):
                diverged = step
                points.pop()
                break
            losses.append(value)
            if step == steps:
                break
            loss.backward()
            opt.step()
            point = np.array(x.detach().numpy(), dtype=np.float64)
            if not np.all(np.isfinite(point)):
                diverged = step + 1
                break
            points.append(point)
        runs[name] = RaceRun(np.array(points).reshape(-1, 2), np.array(losses), diverged)
    return runs


def _window(runs: dict, start: np.ndarray, track: Optional[RaceTrack]) -> tuple:
    if track is not None:
        return track.window
    kept = [r.points for r in runs.values() if r.diverged_at is None and len(r.points)] or \
           [r.points for r in runs.values() if len(r.points)]
    points = np.vstack(kept + [start[None, :]])
    low, high = points.min(axis=0), points.max(axis=0)
    pad = np.maximum(0.1 * (high - low), 0.5)
    return ((low[0] - pad[0], high[0] + pad[0]), (low[1] - pad[1], high[1] + pad[1]))


def _contours(ax, func: Callable, window: tuple, grid_points: int) -> None:
    g1, g2 = np.meshgrid(np.linspace(*window[0], grid_points), np.linspace(*window[1], grid_points))
    values = evaluate_on_points(func, np.stack([g1.ravel(), g2.ravel()], axis=1)).reshape(g1.shape)
    finite = values[np.isfinite(values)]
    # Levels at quantiles of the values, denser at the low end: the valleys get contours, not only the walls.
    levels = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, 18)[1:-1] ** 2)) if finite.size else None
    ax.contour(g1, g2, values, levels=levels, colors="#999999", linewidths=0.6)


def _label(name: str, run: RaceRun) -> str:
    return name if run.diverged_at is None else f"{name} (diverged at step {run.diverged_at})"


def optimizer_race(f: Union[str, Callable], x0, optimizers: dict, steps: int, animate: bool = False,
                   path: Optional[PathLike] = None, *, title: Optional[str] = None,
                   figsize: tuple[float, float] = (4.5, 3.5), grid_points: int = 120, frames: int = 40,
                   fps: int = 12):
    """Race ``optimizers`` on ``f`` from ``x0`` for ``steps`` steps and draw their paths over f's contours.

    ``f``: "rosenbrock", "beale", "quadratic" (see RACE_TRACKS), or your own function of a (2,) tensor;
    ``x0``: the start (None: the built-in function's usual one); ``optimizers``: name -> a function building
    the optimizer from a parameter list (an optimizer class gives its defaults), e.g. ``{"SGD": lambda p: optim.SGD(p, lr=1e-3), "Adam": lambda p:
    optim.Adam(p, lr=0.1)}``. With ``animate=True`` the race is also saved as a GIF of at most ``frames``
    frames at ``fps`` to ``path`` (required, ending in .gif; needs Pillow). Returns the Figure (the finished
    race); ``figure.race_runs`` holds the RaceRun of each optimizer.
    """
    func, track = _track(f)
    if animate and (path is None or os.path.splitext(os.fspath(path))[1].lower() != ".gif"):
        raise ValueError(f"optimizer_race: animate=True saves a GIF and needs path= ending in .gif, got {path!r}")
    runs = race_trajectories(f, x0, optimizers, steps)
    start = _start(x0, track)
    window = _window(runs, start, track)
    fig, ax = new_figure(figsize)
    _contours(ax, func, window, grid_points)
    ax.plot([start[0]], [start[1]], "ko", markersize=4)
    if track is not None:
        ax.plot([track.minimum[0]], [track.minimum[1]], "k*", markersize=9)
    lines = {}
    for name, run in runs.items():
        (lines[name],) = ax.plot(run.points[:, 0], run.points[:, 1], "-o", markersize=1.5, linewidth=1.2,
                                 label=_label(name, run))
    ax.set_xlim(*window[0])
    ax.set_ylim(*window[1])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(fontsize="small", loc="best")
    fig.race_runs = runs
    if not animate:
        return finish(fig, path, title)
    finish(fig, None, title)
    _save_gif(fig, runs, lines, steps, path, frames, fps)
    return fig


def _save_gif(fig, runs: dict, lines: dict, steps: int, path: PathLike, frames: int, fps: int) -> None:
    from matplotlib.animation import PillowWriter
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 2:
        raise ValueError(f"optimizer_race: frames must be an integer >= 2, got {frames!r}")
    folder = os.path.dirname(os.fspath(path))
    if folder and not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save the race to {os.fspath(path)!r}: the folder {folder!r} does not exist")
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)      # a bare Figure has no renderer of its own; the writer needs one
    shown = np.unique(np.linspace(0, steps, min(frames, steps + 1)).round().astype(int))

    writer = PillowWriter(fps=fps)
    with writer.saving(fig, os.fspath(path), dpi=80):
        for upto_step in shown:    # each frame: every path up to this step (a diverged one stops where it ended)
            for name, run in runs.items():
                upto = min(int(upto_step) + 1, len(run.points))
                lines[name].set_data(run.points[:upto, 0], run.points[:upto, 1])
            writer.grab_frame()
