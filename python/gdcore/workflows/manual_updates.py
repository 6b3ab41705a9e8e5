"""Workflow (b): W and b as tensors with requires_grad, y_hat = X * W + b on 20 points from
linspace(1, 21), loss = sum of squares, and manual updates ``W.data -= lr * W.grad.data`` /
``W.grad.data.zero_()`` for 100 epochs.

The tutorial's lr = 0.001 diverges here: the Hessian of the sum of squares, 2 [[sum x^2, sum x],
[sum x, n]], has a largest eigenvalue near 6344, so any lr above 2 / 6344 = 3.2e-4 makes the error grow
every step (by |1 - 6.34| = 5.3 per step at lr = 0.001) until the float32 loss overflows.
``check_finite`` stops the loop at that step with a message naming it and the learning rate; the run is
then repeated with a learning rate inside the stable range. Honestly: in 100 epochs that run gets W close
to the least-squares slope but not b, whose direction has a curvature ~700x smaller (the loss ends ~45%
above the least-squares minimum); centring X would fix that, and the workflow prints both numbers.
"""
from __future__ import annotations

import time
from typing import Optional

import numpy as np

import gdcore
from ..data import noisy_identity_line
from ..train import DivergenceError, check_finite
from .result import Log, WorkflowResult, close, emit, plot_path

TUTORIAL_LR = 0.001   # what people copy from the tutorial; diverges on this data
STABLE_LR = 2e-4      # about 60% of the stability limit 2 / lambda_max = 3.15e-4


def make_data(n: int = 20, seed: int = 0):
    """X: (n,) = linspace(1, 21, n); y: (n,) = X + 0.8 * U(0, 1) noise (so slope 1, intercept about 0.4)."""
    return noisy_identity_line(n, 1.0, 21.0, 0.8, seed=seed)


def hessian_eigenvalues(X) -> tuple:
    """(smallest, largest) eigenvalue of the sum-of-squares Hessian in (W, b), 2 [[sum x^2, sum x], [sum x, n]].

    Learning rates above 2 / largest diverge; the ratio largest / smallest is why b converges slowly."""
    x = np.asarray(X.tolist(), dtype=float)
    hessian = 2 * np.array([[x @ x, x.sum()], [x.sum(), len(x)]])
    low, high = np.linalg.eigvalsh(hessian)
    return float(low), float(high)


def run(lr: float = STABLE_LR, epochs: int = 100, print_every: int = 20, n: int = 20, seed: int = 0,
        out: Optional[str] = None, log: Log = None) -> WorkflowResult:
    """One run of the manual loop; raises gdcore.train.DivergenceError when the loss stops being finite."""
    started = time.perf_counter()
    X, y = make_data(n, seed)
    g = gdcore.Generator(seed + 1)
    W = gdcore.randn(1, generator=g).requires_grad_()
    b = gdcore.zeros(1, requires_grad=True)
    W0 = W.item()
    for epoch in range(1, epochs + 1):
        y_hat = X * W + b
        loss = ((y_hat - y) ** 2).sum()
        value = check_finite(loss, step=epoch, lr=lr)
        loss.backward()
        W.data -= lr * W.grad.data
        b.data -= lr * b.grad.data
        W.grad.data.zero_()
        b.grad.data.zero_()
        if epoch % print_every == 0 or epoch == 1:
            emit(log, f"epoch {epoch:3d}  loss {value:.6f}  W {W.item():.5f}  b {b.item():.5f}")
    with gdcore.no_grad():
        final = ((X * W + b - y) ** 2).sum().item()
    seconds = time.perf_counter() - started
    w, c = W.item(), b.item()
    x_np, y_np = np.asarray(X.tolist()), np.asarray(y.tolist())
    best = np.linalg.lstsq(np.c_[x_np, np.ones(n)], y_np, rcond=None)
    best_loss = float(((np.c_[x_np, np.ones(n)] @ best[0] - y_np) ** 2).sum())

    plots = []
    path = plot_path(out, "b_manual_updates.png")
    if path is not None:
        from .. import plot
        close(plot.plot_fit(x_np, y_np, w * x_np + c, path=path, label=f"y = {w:.3f} x + {c:.3f}",
                            title=f"(b) manual updates, lr={lr:g}"))
        plots.append(path)
    return WorkflowResult(
        name="(b) manual updates", fitted=f"W = {w:.4f}, b = {c:.4f} (lr={lr:g}, {epochs} epochs)",
        final_loss=final, seconds=seconds, plots=plots,
        learned={"W": w, "b": c, "W0": W0, "lr": lr, "epochs": epochs, "least_squares_loss": best_loss,
                 "W_lstsq": float(best[0][0]), "b_lstsq": float(best[0][1])})


def run_tutorial_then_stable(epochs: int = 100, print_every: int = 20, n: int = 20, seed: int = 0,
                             out: Optional[str] = None, log: Log = None) -> WorkflowResult:
    """Try the tutorial's lr = 0.001, report the divergence gdcore catches, then run with STABLE_LR.

    The returned result is the stable run's; ``learned["divergence"]`` holds the caught message."""
    X, _ = make_data(n, seed)
    low, high = hessian_eigenvalues(X)
    limit = 2.0 / high
    emit(log, f"lr = {TUTORIAL_LR:g} (the tutorial's):")
    try:
        run(TUTORIAL_LR, epochs, print_every, n, seed, out=None, log=log)
        message = None
        emit(log, f"  the loss stayed finite for {epochs} epochs")
    except DivergenceError as err:
        message = str(err)
        emit(log, f"  gdcore stopped it: {message}")
    emit(log, f"the stable range for this X is lr < 2 / lambda_max = {limit:.3g}; running with lr = {STABLE_LR:g}:")
    result = run(STABLE_LR, epochs, print_every, n, seed, out=out, log=log)
    result.learned.update(divergence=message, stability_limit=limit)
    emit(log, f"least-squares optimum (numpy lstsq): W {result.learned['W_lstsq']:.4f}, "
              f"b {result.learned['b_lstsq']:.4f}, loss {result.learned['least_squares_loss']:.4f}; after {epochs} "
              f"epochs the loss is {result.final_loss:.4f} (b still moves slowly: the Hessian's eigenvalues differ "
              f"{high / low:.0f}x)")
    return result
