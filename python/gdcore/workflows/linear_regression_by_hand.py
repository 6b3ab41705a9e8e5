"""Workflow (a): linear regression on 20 points by batch gradient descent, the gradient derived by hand
in matrix form, X^T (X theta - y) / m, and, side by side, from autograd; iterate until every component
of the gradient is at most ``tol`` in absolute value. The two gradients are compared at every step.

float64 throughout: a float32 gradient is a sum of twenty terms of size ~20 and cannot resolve 1e-5.
"""
from __future__ import annotations

import time
from typing import Optional

import numpy as np

import gdcore
from ..data import twenty_points
from ..train import check_finite
from .result import Log, WorkflowResult, close, emit, plot_path


def design_matrix(x: gdcore.Tensor) -> gdcore.Tensor:
    """(m,) inputs -> (m, 2) matrix with a column of ones (intercept) and the inputs."""
    x = x.reshape(-1, 1)
    return gdcore.cat([gdcore.ones(x.shape[0], 1, dtype=x.dtype), x], 1)


def run(lr: float = 0.01, tol: float = 1e-5, max_steps: int = 200_000, out: Optional[str] = None,
        log: Log = None) -> WorkflowResult:
    """Fit y = theta0 + theta1 * x to the 20 points; return theta, the step count and the largest
    difference between the hand-derived and the autograd gradient over all steps."""
    started = time.perf_counter()
    x_points, y_points = twenty_points(dtype=gdcore.float64)
    X = design_matrix(x_points)                                  # (20, 2)
    y = y_points.reshape(-1, 1)                                  # (20, 1)
    m = X.shape[0]
    theta = gdcore.zeros(2, 1, dtype=gdcore.float64, requires_grad=True)
    max_gap, step = 0.0, 0
    while True:
        residual = X @ theta - y
        loss = (residual ** 2).sum() / (2 * m)                   # J(theta) = |X theta - y|^2 / (2m)
        value = check_finite(loss, step=step, lr=lr)
        theta.grad = None
        loss.backward()
        hand = X.t() @ residual.detach() / m                     # dJ/dtheta = X^T (X theta - y) / m
        max_gap = max(max_gap, (hand - theta.grad).abs().max().item())
        largest = hand.abs().max().item()
        if step % 1000 == 0:
            emit(log, f"step {step:6d}  J = {value:.8f}  max |grad| = {largest:.3e}")
        if largest <= tol:
            break
        if step >= max_steps:
            raise RuntimeError(f"linear regression by hand: |gradient| = {largest:.3g} > tol = {tol:g} after "
                               f"{max_steps} steps with lr={lr:g}; raise max_steps or the learning rate")
        theta.data -= lr * hand
        step += 1
    seconds = time.perf_counter() - started
    learned = theta.detach().reshape(-1).tolist()
    xs, ys = x_points.numpy(), y_points.numpy()
    closed_form = np.linalg.lstsq(np.c_[np.ones(m), xs], ys, rcond=None)[0].tolist()
    emit(log, f"converged after {step} steps: theta = [{learned[0]:.8f}, {learned[1]:.8f}]")
    emit(log, f"closed form (numpy lstsq):      [{closed_form[0]:.8f}, {closed_form[1]:.8f}]")
    emit(log, f"largest |hand gradient - autograd gradient| over all steps: {max_gap:.3e}")

    plots = []
    path = plot_path(out, "a_linear_regression_by_hand.png")
    if path is not None:
        from .. import plot
        fig = plot.plot_fit(xs, ys, learned[0] + learned[1] * xs, path=path,
                            label=f"y = {learned[0]:.3f} + {learned[1]:.3f} x", title="(a) gradient descent by hand")
        close(fig)
        plots.append(path)
    return WorkflowResult(
        name="(a) linear regression by hand",
        fitted=f"theta = [{learned[0]:.4f}, {learned[1]:.4f}] in {step} steps",
        final_loss=value, seconds=seconds, plots=plots,
        learned={"theta": learned, "theta_lstsq": closed_form, "steps": step, "max_grad_gap": max_gap, "lr": lr})
