"""``gdcore train --task classification``: fit a softmax-regression model (one Linear layer) or a
one-hidden-layer MLP to a CSV table whose target column holds class labels (names or integers), with
nn.CrossEntropyLoss, printing the mean training loss and accuracy per epoch and the final accuracy.
The model maps (N, features) to (N, classes) logits; the class names are printed so that a saved
model's outputs can be read back.
"""
from __future__ import annotations

from typing import Optional

import gdcore
from .. import data as gdata
from .. import nn
from ..metrics import accuracy
from ..train import History, fit
from .result import Log, close, emit
from .train_table import DEFAULT_LR, _check_output, _fold_scaling, _standardize, _target, build_optimizer


def build_classifier(kind: str, n_features: int, n_classes: int, hidden: int = 64) -> nn.Module:
    """(N, n_features) -> (N, n_classes) logits: one Linear (softmax regression), or Linear-ReLU-Linear."""
    if kind == "linear":
        return nn.Sequential(nn.Linear(n_features, n_classes))
    if kind == "mlp":
        return nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))
    raise ValueError(f"unknown model {kind!r}; choose 'linear' or 'mlp'")


def train_classifier(csv: str, target: Optional[str] = None, model: str = "linear", hidden: int = 64,
                     optimizer: str = "sgd", lr: Optional[float] = None, batch_size: int = 32, epochs: int = 10,
                     seed: int = 0, standardize: bool = False, plot: Optional[str] = None,
                     save: Optional[str] = None, log: Log = None) -> History:
    """Fit and report; returns the History (training loss and ``metrics['accuracy']`` per epoch)."""
    _check_output(plot, "--plot")
    _check_output(save, "--save")
    X, y, classes = gdata.load_labelled_csv(csv, target=_target(target))
    if len(classes) < 2:
        raise ValueError(f"{csv}: the label column holds a single class ({classes[0]!r}); classification needs two "
                         "or more")
    mean = std = None
    if standardize:
        X, mean, std = _standardize(X)
    lr = DEFAULT_LR[optimizer] if lr is None else lr
    gdcore.manual_seed(seed)
    net = build_classifier(model, X.shape[1], len(classes), hidden)
    opt = build_optimizer(optimizer, net.parameters(), lr)
    loader = gdata.DataLoader(gdata.TensorDataset(X, y), batch_size=batch_size, shuffle=True,
                              generator=gdcore.Generator(seed))
    shown = ", ".join(str(c) for c in classes[:10]) + (", ..." if len(classes) > 10 else "")
    emit(log, f"{csv}: {X.shape[0]} rows, {X.shape[1]} features, {len(classes)} classes ({shown}); model {model}"
         + (f" ({hidden} hidden)" if model == "mlp" else "") + f", {optimizer} lr={lr:g}, batch size {batch_size}, "
         "cross-entropy" + (", standardised features" if standardize else ""))

    def report(history: History) -> None:
        epoch = len(history.train_losses)
        emit(log, f"epoch {epoch:{len(str(epochs))}d}/{epochs}  loss {history.train_losses[-1]:.6g}  "
                  f"accuracy {history.metrics['accuracy'][-1]:.4f}  ({history.seconds_per_epoch[-1]:.3f} s)")

    history = fit(net, nn.CrossEntropyLoss(), opt, loader, epochs, callback=report, label=f"{model}, {optimizer}",
                  metrics={"accuracy": accuracy})
    net.eval()
    with gdcore.no_grad():
        final = accuracy(net(X), y)
    emit(log, f"accuracy on all {X.shape[0]} rows after training: {final:.4f}")
    if plot is not None:
        from .. import plot as gplot
        close(gplot.plot_losses(history, path=plot, ylabel="cross-entropy",
                                title=f"gdcore train: {model}, {optimizer}, lr={lr:g}"))
        emit(log, f"loss and accuracy curves saved to {plot}")
    if save is not None:
        state = net.state_dict()
        gdcore.save(_fold_scaling(state, mean, std) if standardize else state, save)
        emit(log, f"state_dict saved to {save}; output k is the logit of class {classes[0]!r} for k = 0, ...")
    history.classes = classes
    history.final_accuracy = final
    return history
