"""Workflow (g): classification, from softmax regression to LeNet.

1. Softmax regression (one Linear layer, cross-entropy) and a small MLP (2-64-64-3, ReLU, Adam) on three
   interleaved spirals: the linear model cannot separate the arms (about 50% accuracy), the MLP can
   (>= 95% on held-out points with the fixed seed). Accuracy curves for train and validation, and the
   decision regions of both models.
2. LeNet-5 as the d2l chapter has it (sigmoid, average pooling, padding 2 on the first convolution,
   cross-entropy, SGD with lr 0.9) on Fashion-MNIST, when its files are found in $GDCORE_DATA_DIR (or the
   user cache, or downloaded with ``download``): a subset of the images so that the demo stays quick.
"""
from __future__ import annotations

import os
import time
from typing import Optional

import gdcore
from .. import nn, optim
from ..data import DataLoader, FashionMNIST, TensorDataset, cache_dir, make_spirals
from ..metrics import accuracy
from ..train import fit
from .. import plot as gplot
from .result import Log, WorkflowResult, close, emit, plot_path

SEED = 0
SPIRAL_CLASSES = 3


def spirals(n_train: int = 300, n_val: int = 300):
    """Training and validation spirals: the same three arms, different noise draws."""
    return make_spirals(n_train, SPIRAL_CLASSES, noise=0.2, seed=SEED), \
        make_spirals(n_val, SPIRAL_CLASSES, noise=0.2, seed=SEED + 1)


def mlp(hidden: int = 64) -> nn.Module:
    """2 -> hidden -> hidden -> 3 with ReLU."""
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, SPIRAL_CLASSES))


def lenet() -> nn.Module:
    """d2l's LeNet-5: (N, 1, 28, 28) -> (N, 10)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))


def train_spirals(model: nn.Module, epochs: int, lr: float, name: str, out: Optional[str], log: Log):
    """Fit ``model`` to the training spirals (Adam, batches of 32) with accuracy per epoch; save its curves
    and decision regions; return (WorkflowResult, History)."""
    (X, y), (Xv, yv) = spirals()
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, generator=gdcore.Generator(SEED))
    started = time.perf_counter()
    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=lr), loader, epochs,
                  metrics={"accuracy": accuracy}, val_data=(Xv, yv), progress=False, label=name)
    seconds = time.perf_counter() - started
    val_acc = history.val_metrics["accuracy"][-1]
    emit(log, f"{name}: {history.summary()}")
    plots = []
    slug = name.split()[0].lower()
    for filename, draw in ((f"g_{slug}_curves.png", lambda p: gplot.plot_losses(history, path=p)),
                           (f"g_{slug}_regions.png", lambda p: gplot.decision_boundary(
                               model, X, y, path=p, title=f"{name}: {val_acc:.0%} on held-out points"))):
        path = plot_path(out, filename)
        if path is not None:
            close(draw(path))
            plots.append(path)
    result = WorkflowResult(f"(g) {name} on spirals", f"validation accuracy {val_acc:.1%} after {epochs} epochs",
                            history.val_losses[-1], seconds, plots,
                            dict(val_accuracy=val_acc, train_accuracy=history.metrics["accuracy"][-1]))
    return result, history


def find_fashion_mnist(download: bool = False, root: Optional[str] = None):
    """(train, test) FashionMNIST from ``root``, else $GDCORE_DATA_DIR, else the cache (downloaded there when
    ``download``); raises FileNotFoundError when the files are in none of them."""
    roots = [root] if root else [r for r in (os.environ.get("GDCORE_DATA_DIR"), cache_dir()) if r]
    for r in roots:
        try:
            return FashionMNIST(r, train=True), FashionMNIST(r, train=False)
        except FileNotFoundError:
            continue
    if download:
        target = roots[-1]
        return FashionMNIST(target, train=True, download=True), FashionMNIST(target, train=False, download=True)
    raise FileNotFoundError(f"Fashion-MNIST not found in {' or '.join(roots)}")


def train_lenet(train_set, test_set, n_train: int, n_test: int, epochs: int, out: Optional[str], log: Log):
    """d2l's LeNet (SGD lr 0.9, batches of 256) on the first n_train training images; accuracy on the first
    n_test test images."""
    X, y = train_set.tensors()
    Xt, yt = test_set.tensors()
    X, y, Xt, yt = X[:n_train], y[:n_train], Xt[:n_test], yt[:n_test]
    gdcore.manual_seed(SEED)
    model = lenet()
    loader = DataLoader(TensorDataset(X, y), batch_size=256, shuffle=True, generator=gdcore.Generator(SEED))
    started = time.perf_counter()
    history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.9), loader, epochs,
                  metrics={"accuracy": accuracy}, val_data=(Xt, yt), progress=False, label="LeNet")
    seconds = time.perf_counter() - started
    emit(log, f"LeNet on {n_train} Fashion-MNIST images: {history.summary()}")
    plots = []
    path = plot_path(out, "g_lenet_curves.png")
    if path is not None:
        close(gplot.plot_losses(history, path=path))
        plots.append(path)
    test_acc = history.val_metrics["accuracy"][-1]
    return WorkflowResult("(g) LeNet-5 on Fashion-MNIST", f"test accuracy {test_acc:.1%} ({n_train} images, "
                          f"{epochs} epochs)", history.val_losses[-1], seconds, plots, dict(test_accuracy=test_acc))


def run(quick: bool = False, out: Optional[str] = None, log: Log = None, download: bool = False,
        data_root: Optional[str] = None) -> tuple:
    """Softmax regression, the MLP and (when the data is there) LeNet; returns (results, notes)."""
    results, notes = [], []
    gdcore.manual_seed(SEED)
    results.append(train_spirals(nn.Linear(2, SPIRAL_CLASSES), 20 if quick else 40, 0.05,
                                 "Softmax regression", out, log)[0])
    gdcore.manual_seed(SEED)
    results.append(train_spirals(mlp(), 60 if quick else 100, 0.01, "MLP", out, log)[0])
    try:
        train_set, test_set = find_fashion_mnist(download, data_root)
    except FileNotFoundError:
        notes.append("(g) LeNet skipped: Fashion-MNIST not found in $GDCORE_DATA_DIR or the cache; set "
                     "GDCORE_DATA_DIR to the folder holding its four .gz files, or run 'gdcore demo --download'")
    except (RuntimeError, ValueError) as err:  # a failed download, a wrong checksum, a damaged file
        notes.append(f"(g) LeNet skipped: {' '.join(str(err).split())}")
    else:
        n_train = min(len(train_set), 2048 if quick else 10240)
        results.append(train_lenet(train_set, test_set, n_train, min(len(test_set), 1000), 1 if quick else 2,
                                   out, log))
    return results, notes
