"""Workflow (h): the curvature tools on the chapter's own examples.

1. The learning-rate advisor on workflow (b)'s data (seed 000's y = X * W + b with the sum-of-squares loss):
   from Hessian-vector products alone it finds lambda_max ~ 6344, predicts that the tutorial's lr = 0.001
   diverges (it is above 2 / lambda_max = 3.15e-4) and suggests half the bound; both predictions are then
   checked by running (b)'s manual loop with each learning rate.
2. The sharpness of a small MLP (1-32-32-1, tanh) fitted to y = sin(3x) + noise by full-batch gradient
   descent with lr = 0.2: the largest Hessian eigenvalue climbs until it reaches 2 / lr = 10 and then hovers
   there (the "edge of stability"), instead of the run diverging.
3. The learning-rate range test on the same MLP, and the optimizer race on Rosenbrock's function.
"""
from __future__ import annotations

import statistics
import time
from typing import Optional

import gdcore
from .. import nn, optim
from ..train import DivergenceError, fit, lr_find, suggest_lr
from . import manual_updates
from .result import Log, WorkflowResult, close, emit, plot_path

TUTORIAL_LR = manual_updates.TUTORIAL_LR
MLP_LR = 0.2


def sum_of_squares(prediction, target):
    """(b)'s loss: the sum (not the mean) of squared errors."""
    return ((prediction - target) ** 2).sum()


def advise_seed_000(epochs: int = 100, log: Log = None) -> dict:
    """The advisor on (b)'s data, and (b)'s loop run with the tutorial's lr and with the suggestion."""
    X, y = manual_updates.make_data()
    model = nn.Linear(1, 1)
    advice = suggest_lr(model, sum_of_squares, (X.reshape(-1, 1), y.reshape(-1, 1)),
                        optim.SGD(model.parameters(), lr=TUTORIAL_LR))
    exact = manual_updates.hessian_eigenvalues(X)[1]
    emit(log, f"advisor: {advice.explanation}")
    emit(log, f"lambda_max from Hessian-vector products {advice.lambda_max:.6g}; closed form 2 [[sum x^2, sum x], "
              f"[sum x, n]] gives {exact:.6g}")
    try:
        manual_updates.run(TUTORIAL_LR, epochs)
        tutorial = "stayed finite (the advisor was wrong)"
    except DivergenceError as err:
        tutorial = f"diverged at step {err.step}, as predicted"
    emit(log, f"(b)'s loop with lr = {TUTORIAL_LR:g}: {tutorial}")
    suggested = manual_updates.run(advice.suggested_lr, epochs)
    emit(log, f"(b)'s loop with the suggested lr = {advice.suggested_lr:.4g}: loss {suggested.final_loss:.4f} after "
              f"{epochs} epochs (least squares: {suggested.learned['least_squares_loss']:.4f})")
    return dict(advice=advice, exact_lambda_max=exact, tutorial=tutorial, suggested_run=suggested)


def sine_data(n: int = 64, seed: int = 0):
    """X (n, 1) evenly on [-2, 2]; y = sin(3 X) + 0.1 N(0, 1) noise."""
    X = gdcore.linspace(-2, 2, n).reshape(-1, 1)
    return X, (3 * X).sin() + 0.1 * gdcore.randn(n, 1, generator=gdcore.Generator(seed))


def small_mlp(seed: int = 0) -> nn.Module:
    """1-32-32-1 with tanh."""
    gdcore.manual_seed(seed)
    return nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))


def race_optimizers() -> dict:
    """The race's field: plain SGD, SGD with momentum 0.9, and Adam."""
    return {"SGD lr=1e-3": lambda p: optim.SGD(p, lr=1e-3),
            "momentum 0.9, lr=1e-3": lambda p: optim.SGD(p, lr=1e-3, momentum=0.9),
            "Adam lr=0.05": lambda p: optim.Adam(p, lr=0.05)}


def run(quick: bool = False, out: Optional[str] = None, log: Log = None) -> WorkflowResult:
    """The three parts above; plots h_sharpness.png, h_lr_find.png, h_race_rosenbrock.png in ``out``."""
    started = time.perf_counter()
    from .. import plot
    seed000 = advise_seed_000(log=log)
    advice = seed000["advice"]

    X, y = sine_data()
    steps = 300 if quick else 600
    model = small_mlp()
    history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=MLP_LR), [(X, y)], steps,
                  track_sharpness=10, progress=False, label="MLP, lr=0.2")
    late = history.sharpness[len(history.sharpness) // 2:]
    median = statistics.median(late)
    emit(log, f"MLP sharpness: {history.sharpness[0]:.3g} at the start, up to {max(history.sharpness):.3g}; over the "
              f"second half between {min(late):.3g} and {max(late):.3g}, median {median:.3g}, around 2 / lr = "
              f"{2 / MLP_LR:g}")

    probe = small_mlp()
    finder = lr_find(probe, nn.MSELoss(), optim.SGD(probe.parameters(), lr=MLP_LR), [(X, y)],
                     start_lr=1e-4, end_lr=10.0, num_steps=60 if quick else 100)
    emit(log, str(finder))

    plots = []
    for name, draw in (
            ("h_sharpness.png", lambda p: plot.sharpness(history, p, title=f"(h) sharpness, lr={MLP_LR:g}")),
            ("h_lr_find.png", lambda p: plot.lr_find(finder, p, title="(h) lr range test, MLP")),
            ("h_race_rosenbrock.png", lambda p: plot.optimizer_race(
                "rosenbrock", None, race_optimizers(), 200 if quick else 500, path=p,
                title="(h) optimizer race, Rosenbrock"))):
        path = plot_path(out, name)
        if path is not None:
            close(draw(path))
            plots.append(path)
    seconds = time.perf_counter() - started
    return WorkflowResult(
        name="(h) curvature tools",
        fitted=(f"lr bound 2/{advice.lambda_max:.0f} = {advice.bound:.3g}: {TUTORIAL_LR:g} diverges, "
                f"{advice.suggested_lr:.3g} converges"),
        final_loss=history.final_loss, seconds=seconds, plots=plots,
        learned={"lambda_max": advice.lambda_max, "lambda_max_exact": seed000["exact_lambda_max"],
                 "bound": advice.bound, "suggested_lr": advice.suggested_lr, "tutorial": seed000["tutorial"],
                 "suggested_loss": seed000["suggested_run"].final_loss, "sharpness": list(history.sharpness),
                 "sharpness_steps": list(history.sharpness_steps), "lr_find_suggestion": finder.suggestion})
