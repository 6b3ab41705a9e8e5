"""Workflow (d): per-sample SGD on a scalar w for y = 2x over {1, 2, 3}; then nn.Linear(1, 1) with
optim.SGD(lr=0.01) and nn.MSELoss for 1000 full-batch epochs (through gdcore.train.fit), printing w and
the loss every 20 epochs; the state dict is saved with gdcore.save, loaded into a fresh model, and the
loaded model predicts f(5).
"""
from __future__ import annotations

import os
import tempfile
import time
from typing import Optional

import gdcore
from .. import nn, optim
from ..data import doubling_points
from ..train import check_finite, fit
from .result import Log, WorkflowResult, close, emit, plot_path



def per_sample_sgd(epochs: int = 20, lr: float = 0.01, w0: float = 1.0, log: Log = None) -> float:
    """Fit y = w x one sample at a time with loss (w x - y)^2; return w."""
    xs, ys = (t.flatten().tolist() for t in doubling_points())
    w = gdcore.tensor([w0], requires_grad=True)
    step = 0
    for epoch in range(1, epochs + 1):
        for x, y in zip(xs, ys):
            loss = (w * x - y) ** 2
            step += 1
            value = check_finite(loss, step=step, epoch=epoch, lr=lr)
            loss.backward()
            w.data -= lr * w.grad.data
            w.grad.data.zero_()
        if epoch % 5 == 0 or epoch == 1:
            emit(log, f"per-sample SGD epoch {epoch:2d}  w {w.item():.5f}  last loss {value:.6f}")
    return w.item()


def run(epochs: int = 1000, lr: float = 0.01, per_sample_epochs: int = 20, print_every: int = 20,
        seed: int = 0, out: Optional[str] = None, log: Log = None) -> WorkflowResult:
    """Both fits, the save/load round trip and the prediction at x = 5 (true value 10)."""
    started = time.perf_counter()
    w_scalar = per_sample_sgd(per_sample_epochs, lr, log=log)
    emit(log, f"per-sample SGD: w = {w_scalar:.5f}, f(4) = {4 * w_scalar:.4f}")

    gdcore.manual_seed(seed)
    x, y = doubling_points()                                     # (3, 1) each
    model = nn.Linear(1, 1)
    initial = {"weight": model.weight.item(), "bias": model.bias.item()}
    optimizer = optim.SGD(model.parameters(), lr=lr)

    def report(history):
        epoch = len(history.train_losses)
        if epoch % print_every == 0 or epoch == 1:
            emit(log, f"epoch {epoch:4d}  w {model.weight.item():.5f}  loss {history.train_losses[-1]:.6f}")

    history = fit(model, nn.MSELoss(), optimizer, [(x, y)], epochs, progress=False, callback=report,
                  label="nn.Linear + optim.SGD")

    folder = out if out is not None else tempfile.mkdtemp(prefix="gdcore-d-")
    os.makedirs(folder, exist_ok=True)
    saved = os.path.join(folder, "d_linear.gdc")
    gdcore.save(model.state_dict(), saved)
    restored = nn.Linear(1, 1)
    restored.load_state_dict(gdcore.load(saved))
    with gdcore.no_grad():
        prediction = restored(gdcore.tensor([[5.0]])).item()
    if out is None:
        os.remove(saved)
        os.rmdir(folder)
    emit(log, f"saved and reloaded the state dict; the loaded model predicts f(5) = {prediction:.4f} (true 10)")
    seconds = time.perf_counter() - started

    plots = []
    path = plot_path(out, "d_linear_sgd_loss.png")
    if path is not None:
        from .. import plot
        close(plot.plot_losses(history, path=path, title=f"(d) nn.Linear + SGD(lr={lr:g})"))
        plots.append(path)
    return WorkflowResult(
        name="(d) linear SGD, save/load",
        fitted=f"w = {model.weight.item():.4f}, b = {model.bias.item():.4f}; loaded f(5) = {prediction:.4f}",
        final_loss=history.final_loss, seconds=seconds, plots=plots,
        learned={"w_per_sample": w_scalar, "weight": model.weight.item(), "bias": model.bias.item(),
                 "initial": initial, "f5": prediction, "saved_to": saved if out is not None else None,
                 "history": history})
