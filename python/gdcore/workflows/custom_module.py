"""Workflow (c): an nn.Module subclass holding two nn.Parameter (w1: (D_in, D_out), b1: (D_out,)) with
forward ``x.mm(self.w1) + self.b1``, a custom loss mean((y_pred - y)^2 / 2) and a hand-written SGD class
with step() and zero_grad() that reads p.grad and writes p.data, fitted to 100 points y = 3x + 10 + noise.
"""
from __future__ import annotations

import time
from typing import Optional

import numpy as np

import gdcore
from .. import nn
from ..data import noisy_linear
from ..train import check_finite
from .result import Log, WorkflowResult, close, emit, plot_path

TRUE_SLOPE, TRUE_INTERCEPT, NOISE_STD = 3.0, 10.0, 0.5


class LinearModel(nn.Module):
    """y = x @ w1 + b1 for x of shape (N, D_in); returns (N, D_out)."""

    def __init__(self, d_in: int, d_out: int, generator: Optional[gdcore.Generator] = None):
        super().__init__()
        self.w1 = nn.Parameter(gdcore.randn(d_in, d_out, generator=generator))
        self.b1 = nn.Parameter(gdcore.zeros(d_out))

    def forward(self, x):
        return x.mm(self.w1) + self.b1


def half_squared_error(y_pred, y):
    """mean((y_pred - y)^2 / 2) over all elements; shapes must match."""
    return ((y_pred - y) ** 2 / 2).mean()


class HandSGD:
    """Plain gradient descent, written the way one writes it before reaching for gdcore.optim."""

    def __init__(self, params, lr: float):
        self.params, self.lr = list(params), lr

    def step(self):
        for p in self.params:
            if p.grad is not None:
                p.data -= self.lr * p.grad.data

    def zero_grad(self):
        for p in self.params:
            if p.grad is not None:
                p.grad.data.zero_()


def make_data(n: int = 100, seed: int = 0):
    """x: (n, 1) ~ N(0, 1); y: (n, 1) = 3x + 10 + N(0, 0.5^2) noise."""
    return noisy_linear(n, TRUE_SLOPE, TRUE_INTERCEPT, NOISE_STD, seed=seed)


def run(iterations: int = 5000, lr: float = 0.1, n: int = 100, seed: int = 0, print_every: int = 1000,
        out: Optional[str] = None, log: Log = None) -> WorkflowResult:
    """Fit the custom module; return the learned slope and intercept next to numpy's least squares."""
    started = time.perf_counter()
    x, y = make_data(n, seed)
    model = LinearModel(1, 1, generator=gdcore.Generator(seed + 1))
    optimizer = HandSGD(model.parameters(), lr=lr)
    for it in range(1, iterations + 1):
        loss = half_squared_error(model(x), y)
        value = check_finite(loss, step=it, lr=lr)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if it % print_every == 0 or it == 1:
            emit(log, f"iteration {it:5d}  loss {value:.6f}")
    with gdcore.no_grad():
        final = half_squared_error(model(x), y).item()
    seconds = time.perf_counter() - started
    slope, intercept = model.w1.item(), model.b1.item()
    x_np, y_np = np.asarray(x.tolist()).ravel(), np.asarray(y.tolist()).ravel()
    ls_slope, ls_intercept = np.polyfit(x_np, y_np, 1)
    emit(log, f"learned slope {slope:.4f}, intercept {intercept:.4f} (true {TRUE_SLOPE:g}, {TRUE_INTERCEPT:g}; "
              f"least squares {ls_slope:.4f}, {ls_intercept:.4f})")

    plots = []
    path = plot_path(out, "c_custom_module.png")
    if path is not None:
        from .. import plot
        close(plot.plot_fit(x_np, y_np, slope * x_np + intercept, path=path,
                            label=f"y = {slope:.3f} x + {intercept:.3f}", title="(c) custom Module, hand SGD"))
        plots.append(path)
    return WorkflowResult(
        name="(c) custom nn.Module", fitted=f"slope {slope:.4f}, intercept {intercept:.4f}",
        final_loss=final, seconds=seconds, plots=plots,
        learned={"slope": slope, "intercept": intercept, "slope_lstsq": float(ls_slope),
                 "intercept_lstsq": float(ls_intercept), "iterations": iterations, "lr": lr})
