"""``gdcore train``: fit a linear model or a one-hidden-layer MLP to a table of numbers (a user's CSV file, or
the airfoil data) by mini-batch gradient descent with nn.MSELoss, printing the mean training loss per epoch.

With ``standardize`` the feature columns are scaled to mean 0 and standard deviation 1 for training; the
scaling is then folded into the first layer (W' = W / std, b' = b - W' mean), so a saved model takes the raw
features like the file's. Under ``gdcore launch -n N -m gdcore train ...`` the ranks train one model data
parallel (workflows/data_parallel.py).
"""
from __future__ import annotations

import os
import re
from typing import Optional

import numpy as np

import gdcore
from .. import data as gdata
from .. import nn, optim
from ..train import History, fit
from .data_parallel import data_parallel
from .result import Log, close, emit

DEFAULT_LR = {"sgd": 0.01, "momentum": 0.01, "adam": 0.001}


def build_model(kind: str, n_features: int, hidden: int = 64) -> nn.Module:
    """An nn.Sequential mapping (N, n_features) -> (N, 1): one Linear, or Linear-ReLU-Linear."""
    if kind == "linear":
        return nn.Sequential(nn.Linear(n_features, 1))
    if kind == "mlp":
        return nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, 1))
    raise ValueError(f"unknown model {kind!r}; choose 'linear' or 'mlp'")


def build_optimizer(kind: str, params, lr: float):
    """optim.SGD, SGD with momentum 0.9, or optim.Adam."""
    if kind == "sgd":
        return optim.SGD(params, lr=lr)
    if kind == "momentum":
        return optim.SGD(params, lr=lr, momentum=0.9)
    if kind == "adam":
        return optim.Adam(params, lr=lr)
    raise ValueError(f"unknown optimizer {kind!r}; choose 'sgd', 'momentum' or 'adam'")


def _target(text: Optional[str]):
    if text is None:
        return -1
    return int(text) if re.fullmatch(r"[+-]?\d+", text.strip()) else text


def _check_output(path: Optional[str], what: str) -> None:
    # Fail before training, not after it, when an output cannot be written.
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{what}: the folder {folder!r} does not exist; create it first or choose another path")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{what}: {path!r} is a folder; give a file name")
    if what == "--plot":
        from matplotlib.backend_bases import FigureCanvasBase
        ext = os.path.splitext(path)[1].lower().lstrip(".")
        kinds = FigureCanvasBase.get_supported_filetypes()
        if ext not in kinds:
            raise ValueError(f"--plot: cannot write a {ext or 'file without an extension'!r} image; use one of "
                             f".{', .'.join(sorted(kinds))} (e.g. loss.png)")


def load_table(csv: Optional[str], target: Optional[str], dataset: Optional[str], download: bool = False):
    """(X (N, d), y (N, 1), description) from a CSV file or the named dataset."""
    if csv is not None:
        X, y = gdata.load_csv(csv, target=_target(target))
        return X, y.reshape(-1, 1), f"{csv}: {X.shape[0]} rows, {X.shape[1]} features"
    if dataset == "airfoil":
        try:
            X, y = gdata.load_airfoil(download=download)
        except FileNotFoundError as err:
            raise FileNotFoundError(f"{err} (on the command line: --download)") from None
        return X, y.reshape(-1, 1), f"airfoil self-noise (standardised): {X.shape[0]} rows, {X.shape[1]} features"
    raise ValueError("give --csv FILE or --dataset airfoil")


def _standardize(X):
    x = X.numpy().astype(np.float64)
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0                                   # a constant column stays constant (and harmless)
    scaled = ((x - mean) / std).astype(np.float32)
    return gdcore.from_numpy(np.ascontiguousarray(scaled)), mean, std


def _fold_scaling(state: dict, mean: np.ndarray, std: np.ndarray) -> dict:
    """First layer on raw features: W x' + b with x' = (x - mean) / std equals (W / std) x + (b - (W / std) mean)."""
    weight = state["0.weight"].numpy().astype(np.float64) / std
    bias = state["0.bias"].numpy().astype(np.float64) - weight @ mean
    folded = dict(state)
    folded["0.weight"] = gdcore.tensor(weight.astype(np.float32))
    folded["0.bias"] = gdcore.tensor(bias.astype(np.float32))
    return folded


def train_table(csv: Optional[str] = None, target: Optional[str] = None, dataset: Optional[str] = None,
                model: str = "linear", hidden: int = 64, optimizer: str = "sgd", lr: Optional[float] = None,
                batch_size: int = 32, epochs: int = 10, seed: int = 0, standardize: bool = False,
                plot: Optional[str] = None, save: Optional[str] = None, download: bool = False,
                log: Log = None, check_lr: bool = False, checkpoint: Optional[str] = None,
                checkpoint_every="epoch", resume: bool = False) -> History:
    """Fit and report; returns the History (mean training MSE per epoch). Raises ValueError/OSError for bad
    data or paths and gdcore.train.DivergenceError when the loss stops being finite. ``check_lr``: print the
    stability bound on the first batch first, and raise ValueError when lr is above it."""
    _check_output(plot, "--plot")
    _check_output(save, "--save")
    _check_output(checkpoint, "--checkpoint")
    X, y, description = load_table(csv, target, dataset, download)
    mean = std = None
    if standardize:
        X, mean, std = _standardize(X)
    lr = DEFAULT_LR[optimizer] if lr is None else lr
    gdcore.manual_seed(seed)
    net = build_model(model, X.shape[1], hidden)
    opt = build_optimizer(optimizer, net.parameters(), lr)
    loader = gdata.DataLoader(gdata.TensorDataset(X, y), batch_size=batch_size, shuffle=True,
                              generator=gdcore.Generator(seed))
    trained, parallel = net, data_parallel(batch_size)       # under gdcore launch: DDP, rank 0 reports
    if parallel is not None:
        if check_lr:
            raise ValueError("--check-lr runs in one process: use it without gdcore launch, then train data "
                             "parallel with the lr it suggests")
        if checkpoint is not None or resume:
            raise ValueError("--checkpoint and --resume run in one process for now (every rank would write the "
                             "same file); train without gdcore launch to use them")
        trained, loader = parallel.wrap(net), parallel.loader(loader.dataset, seed)
        log = log if parallel.is_main else None
        plot, save = (plot, save) if parallel.is_main else (None, None)
    emit(log, f"{description}; model {model}" + (f" ({hidden} hidden)" if model == "mlp" else "")
         + f", {optimizer} lr={lr:g}, batch size {batch_size}" + (", standardised features" if standardize else ""))

    def report(history: History) -> None:
        if parallel is not None:
            parallel.end_of_epoch(history)
        epoch = len(history.train_losses)
        emit(log, f"epoch {epoch:{len(str(epochs))}d}/{epochs}  loss {history.train_losses[-1]:.6g}  "
                  f"({history.seconds_per_epoch[-1]:.3f} s)")

    if check_lr:
        from ..curvature.advisor import suggest_lr
        state = loader.generator.get_state()         # peek at fit's first batch without changing the shuffling
        X0, y0 = next(iter(loader))
        loader.generator.set_state(state)
        advice = suggest_lr(net, nn.MSELoss(), (X0, y0), opt, generator=gdcore.Generator(0))
        emit(log, f"--check-lr: lambda_max = {advice.lambda_max:.4g} on the first batch; {optimizer} "
                  f"diverges above lr = {advice.formula} = {advice.bound:.4g}; suggested lr {advice.suggested_lr:.4g}")
    if resume:
        emit(log, f"resuming from {checkpoint}")
    history = fit(trained, nn.MSELoss(), opt, loader, epochs, callback=report, label=f"{model}, {optimizer}",
                  check_lr="error" if check_lr else False, checkpoint=checkpoint,
                  checkpoint_every=checkpoint_every, resume=resume)
    if plot is not None:
        from .. import plot as gplot
        close(gplot.plot_losses(history, path=plot, ylabel="mean squared error",
                                title=f"gdcore train: {model}, {optimizer}, lr={lr:g}"))
        emit(log, f"loss curve saved to {plot}")
    if save is not None:
        state = net.state_dict()
        gdcore.save(_fold_scaling(state, mean, std) if standardize else state, save)
        emit(log, f"state_dict saved to {save} (load with model.load_state_dict(gdcore.load(path)))")
    return history
