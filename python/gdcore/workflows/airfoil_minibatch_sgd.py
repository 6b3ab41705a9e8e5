"""Workflow (f): mini-batch SGD on the airfoil self-noise data (first 1500 rows, every column standardised,
5 features, the label in the last column), as the chapter does it: from scratch (linreg = X @ w + b,
squared_loss = (y_hat - y)^2 / 2, sgd(params, states, hyperparams), a loop in the style of train_ch11) and
concise (nn.Sequential(nn.Linear(5, 1)), nn.MSELoss, optim.SGD through gdcore.train.fit), for
(lr, batch size, epochs) = (1, 1500, 6), (0.005, 1, 2) and (0.05, 10, 2). The loss on the full data is
recorded every 200 examples (every step for full batches) and each epoch is timed.

nn.MSELoss is mean (y_hat - y)^2, twice squared_loss, so the concise run uses lr / 2 to take exactly the
same steps; both start from the same weights and see the same batches, and their curves are compared in
the units of squared_loss.
"""
from __future__ import annotations

import time
from typing import Optional

import gdcore
from .. import data as gdata
from .. import nn, optim
from ..train import History, check_finite, fit
from .result import Log, WorkflowResult, close, emit, plot_path

SETTINGS = [(1.0, 1500, 6), (0.005, 1, 2), (0.05, 10, 2)]
QUICK_SETTINGS = [(1.0, 1500, 2), (0.005, 1, 1), (0.05, 10, 1)]
EVAL_EVERY_EXAMPLES = 200
# What load_data raises when the file is absent and not downloaded, the download fails, or the bytes differ.
DATA_MISSING = (FileNotFoundError, RuntimeError, gdata.ChecksumError)


def load_data(path: Optional[str] = None, download: bool = False):
    """(features (1500, 5), labels (1500, 1)), standardised, via gdcore.data.load_airfoil (see there for where
    the file is looked for); raises one of DATA_MISSING when it cannot be had."""
    X, y = gdata.load_airfoil(path=path, download=download, standardize=True, n=1500)
    return X, y.reshape(-1, 1)


def linreg(X, w, b):
    """(N, d) @ (d, 1) + (1,) -> (N, 1)."""
    return X @ w + b


def squared_loss(y_hat, y):
    """Per-sample (y_hat - y)^2 / 2, shape (N, 1)."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, states, hyperparams):
    """p <- p - lr * grad for every parameter, then clear the gradient (states unused by plain SGD)."""
    for p in params:
        p.data -= hyperparams["lr"] * p.grad.data
        p.grad.data.zero_()


def _loader(X, y, batch_size: int, seed: int):
    return gdata.DataLoader(gdata.TensorDataset(X, y), batch_size=batch_size, shuffle=True,
                            generator=gdcore.Generator(seed))


def _eval_every(batch_size: int) -> int:
    return max(1, EVAL_EVERY_EXAMPLES // batch_size)


def train_scratch(X, y, w0, lr: float, batch_size: int, epochs: int, seed: int = 0) -> History:
    """The chapter's train_ch11 loop with linreg / squared_loss / sgd; w0 (d, 1) is the initial weight."""
    w = w0.clone().requires_grad_()
    b = gdcore.zeros(1, requires_grad=True)
    loader, every = _loader(X, y, batch_size, seed), _eval_every(batch_size)
    history = History(label="from scratch")

    def evaluate(step, epoch):
        with gdcore.no_grad():
            value = squared_loss(linreg(X, w, b), y).mean()
        history.epochs.append(step / len(loader))
        history.losses.append(check_finite(value, step=step, epoch=epoch, lr=lr))

    evaluate(0, 0)
    for epoch in range(1, epochs + 1):
        started, eval_seconds, total = time.perf_counter(), 0.0, 0.0
        for Xb, yb in loader:
            loss = squared_loss(linreg(Xb, w, b), yb).mean()
            history.steps += 1
            total += check_finite(loss, step=history.steps, epoch=epoch, lr=lr) * Xb.shape[0]
            loss.backward()
            sgd([w, b], None, {"lr": lr})
            if history.steps % every == 0:
                t0 = time.perf_counter()
                evaluate(history.steps, epoch)
                eval_seconds += time.perf_counter() - t0
        history.seconds_per_epoch.append(time.perf_counter() - started - eval_seconds)
        history.train_losses.append(total / X.shape[0])
    return history


def train_concise(X, y, w0, lr: float, batch_size: int, epochs: int, seed: int = 0) -> History:
    """nn.Sequential(nn.Linear(5, 1)) + nn.MSELoss + optim.SGD(lr / 2) through fit; losses as squared_loss."""
    net = nn.Sequential(nn.Linear(X.shape[1], 1))
    with gdcore.no_grad():
        net[0].weight.copy_(w0.reshape(1, -1))
        net[0].bias.zero_()
    history = fit(net, nn.MSELoss(), optim.SGD(net.parameters(), lr=lr / 2), _loader(X, y, batch_size, seed),
                  epochs, eval_every=_eval_every(batch_size), eval_data=(X, y), progress=False, label="concise")
    history.losses = [v / 2 for v in history.losses]           # MSE -> squared_loss units
    history.train_losses = [v / 2 for v in history.train_losses]
    return history


def run(data=None, settings=None, quick: bool = False, seed: int = 0, out: Optional[str] = None,
        log: Log = None) -> WorkflowResult:
    """Train from scratch and concisely for each (lr, batch size, epochs); ``data`` is load_data()'s pair
    (loaded from $GDCORE_DATA_DIR / the cache when None). The final loss reported is the last setting's."""
    started = time.perf_counter()
    X, y = data if data is not None else load_data()
    settings = list(settings or (QUICK_SETTINGS if quick else SETTINGS))
    w0 = gdcore.normal(0.0, 0.01, (X.shape[1], 1), generator=gdcore.Generator(seed))
    runs = []
    for lr, batch_size, epochs in settings:
        scratch = train_scratch(X, y, w0, lr, batch_size, epochs, seed)
        concise = train_concise(X, y, w0, lr, batch_size, epochs, seed)
        runs.append({"lr": lr, "batch_size": batch_size, "epochs": epochs, "scratch": scratch, "concise": concise})
        emit(log, f"lr={lr:g}, batch size {batch_size}, {epochs} epochs: loss {scratch.final_loss:.4f} "
                  f"(concise {concise.final_loss:.4f}), {scratch.mean_seconds_per_epoch:.3f} s/epoch "
                  f"(concise {concise.mean_seconds_per_epoch:.3f})")
    seconds = time.perf_counter() - started

    plots = []
    if out is not None:
        from .. import plot
        for r in runs:
            path = plot_path(out, f"f_airfoil_lr{r['lr']:g}_batch{r['batch_size']}.png")
            labels = [f"{name} ({h.mean_seconds_per_epoch:.3f} s/epoch)"
                      for name, h in (("scratch", r["scratch"]), ("concise", r["concise"]))]
            close(plot.plot_losses([r["scratch"], r["concise"]], labels=labels, path=path, ylabel="squared loss",
                                   title=f"(f) airfoil, lr={r['lr']:g}, batch {r['batch_size']}"))
            plots.append(path)
        path = plot_path(out, "f_airfoil_compare.png")
        close(plot.plot_losses([r["scratch"] for r in runs],
                               labels=[f"lr={r['lr']:g}, batch {r['batch_size']}" for r in runs],
                               path=path, ylabel="squared loss", title="(f) airfoil: gd / sgd / mini-batch"))
        plots.append(path)
    last = runs[-1]
    return WorkflowResult(
        name="(f) airfoil mini-batch SGD",
        fitted=", ".join(f"lr={r['lr']:g}/batch {r['batch_size']}: {r['scratch'].final_loss:.3f}" for r in runs),
        final_loss=last["scratch"].final_loss, seconds=seconds, plots=plots,
        learned={"runs": runs, "w0": w0.reshape(-1).tolist()})
