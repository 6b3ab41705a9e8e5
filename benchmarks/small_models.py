"""Targets 2 and 3: eager training steps of small linear models, written as users write them.

- Linear(1, 1) on 3 points: zero_grad, forward, MSELoss, backward, SGD step (nn/optim API).
- Linear(5, 1) on an airfoil mini-batch of 10, twice: from scratch (tensors w and b, the
  loss written out, the update under no_grad) and with nn/optim.
- Per-sample SGD for linear regression on 200,000 x 16 float64 against scikit-learn's
  SGDRegressor (constant lr, no penalty, shuffle). gdcore, torch and numpy run this as a
  Python loop over samples: they are timed on the first 2,000 samples and the time is
  scaled to the epoch (noted in the table).
The same step code runs on gdcore and torch (their APIs match); numpy gets the hand-written
step (the formulas of the gradient written out). The "gdcore.compile" rows run the same step
function through gdcore.compile (captured at the first call, replayed in C++ after it); the
per-sample epoch runs through CompiledStep.run_epoch.
"""
from __future__ import annotations

import os
import warnings
from typing import List, Optional, Tuple

import numpy as np

import gdcore

from .report import COMPILED
from .workload import Workload

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def airfoil_arrays() -> Tuple[np.ndarray, np.ndarray, Optional[str]]:
    """The 1,500 standardised airfoil rows as float32 (X (1500, 5), y (1500,)), and a note when
    the file was not found and synthetic data of the same shape stands in."""
    from gdcore.data import load_airfoil

    for path in (None, os.path.join(REPO, "..", "shared", "data")):
        try:
            X, y = load_airfoil(path=path, download=False)
            return X.numpy(), y.numpy(), None
        except (OSError, ValueError, RuntimeError):
            continue
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1500, 5)).astype(np.float32)
    y = (X @ rng.standard_normal(5) + 0.1 * rng.standard_normal(1500)).astype(np.float32)
    return X, y, "airfoil_self_noise.dat not found ($GDCORE_DATA_DIR, the gdcore cache, ../shared/data): " \
                 "synthetic data of the same shape"


def _nn_step_fn(model, loss_fn, optimizer):
    """The torch-style training step as a function of the batch (what gdcore.compile takes)."""
    def step(X, y):
        optimizer.zero_grad()
        out = model(X)
        loss = loss_fn(out, y.reshape(out.shape))
        loss.backward()
        optimizer.step()
        return loss
    return step


def _nn_step(lib, model, loss_fn, optimizer, X, y, compiled=False):
    fn = _nn_step_fn(model, loss_fn, optimizer)
    if compiled:
        fn = lib.compile(fn)
    return lambda: fn(X, y)


def linear_1_1(anchors) -> Workload:
    X = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
    y = np.array([[2.0], [4.0], [6.0]], dtype=np.float32)

    def framework(lib, compiled=False):
        def setup():
            lib.manual_seed(0)
            model = lib.nn.Linear(1, 1)
            return _nn_step(lib, model, lib.nn.MSELoss(), lib.optim.SGD(model.parameters(), lr=0.01),
                            lib.tensor(X), lib.tensor(y), compiled)
        return setup

    def numpy_setup():
        w, b = np.zeros((1, 1), np.float32), np.zeros(1, np.float32)

        def step():
            diff = X @ w + b - y
            loss = (diff * diff).mean()
            w[...] -= 0.01 * (2.0 / len(X)) * (X.T @ diff)
            b[...] -= 0.01 * 2.0 * diff.mean()
            return loss
        return step

    impls = {"gdcore": framework(gdcore), COMPILED: framework(gdcore, compiled=True), "numpy": numpy_setup}
    if anchors.get("torch"):
        impls["torch"] = framework(anchors.get("torch"))
    return Workload("train.linear_1_1", "Linear(1,1) step on 3 points (nn + MSELoss + SGD)", impls)


def airfoil(anchors) -> List[Workload]:
    X, y, note = airfoil_arrays()
    batches = [(X[i:i + 10], y[i:i + 10]) for i in range(0, len(X), 10)]
    torch = anchors.get("torch")

    def cycling(lib, make_step):
        """A step that walks through the 150 mini-batches in order (each call one batch)."""
        data = [(lib.tensor(a), lib.tensor(b)) for a, b in batches]
        steps = [make_step(xb, yb) for xb, yb in data]
        position = [0]

        def step():
            steps[position[0]]()
            position[0] = (position[0] + 1) % len(steps)
        return step

    def nn_version(lib, compiled=False):
        def setup():
            lib.manual_seed(0)
            model = lib.nn.Linear(5, 1)
            loss_fn, optimizer = lib.nn.MSELoss(), lib.optim.SGD(model.parameters(), lr=0.01)
            step = _nn_step_fn(model, loss_fn, optimizer)
            if compiled:
                step = lib.compile(step)
            return cycling(lib, lambda xb, yb: (lambda: step(xb, yb)))
        return setup

    def scratch_version(lib, compiled=False):
        def setup():
            lib.manual_seed(0)
            w = lib.normal(0.0, 0.01, size=(5, 1)).requires_grad_(True)
            b = lib.zeros(1, requires_grad=True)

            def step(xb, yb):
                loss = ((xb @ w + b - yb.reshape(-1, 1)) ** 2 / 2).mean()
                loss.backward()
                with lib.no_grad():
                    w.sub_(0.01 * w.grad)
                    b.sub_(0.01 * b.grad)
                w.grad.zero_()
                b.grad.zero_()
                return loss
            if compiled:
                step = lib.compile(step)
            return cycling(lib, lambda xb, yb: (lambda: step(xb, yb)))
        return setup

    def numpy_setup():
        w, b = np.zeros((5, 1), np.float32), np.zeros(1, np.float32)
        position = [0]

        def step():
            xb, yb = batches[position[0]]
            position[0] = (position[0] + 1) % len(batches)
            diff = xb @ w + b - yb.reshape(-1, 1)
            loss = (diff * diff).mean() / 2
            w[...] -= 0.01 * (xb.T @ diff) / len(xb)
            b[...] -= 0.01 * diff.mean()
            return loss
        return step

    out = []
    for key, title, version in (("train.airfoil_scratch", "airfoil batch-10 Linear(5,1) step, from scratch",
                                 scratch_version),
                                ("train.airfoil_nn", "airfoil batch-10 Linear(5,1) step, nn + optim", nn_version)):
        impls = {"gdcore": version(gdcore), COMPILED: version(gdcore, compiled=True), "numpy": numpy_setup}
        if torch:
            impls["torch"] = version(torch)
        out.append(Workload(key, title, impls, notes=[note] if note else []))
    return out


def per_sample_sgd(anchors, quick: bool, c_lib=None) -> Workload:
    """One epoch of per-sample SGD on 200,000 x 16 float64 (per-epoch seconds); `c_lib` is
    c_reference.build()'s library (the plain C loop's row) or None."""
    rows, features, lr = 200_000, 16, 1e-3
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, features))
    y = X @ rng.standard_normal(features) + 0.1 * rng.standard_normal(rows)
    part = 500 if quick else 2_000  # the Python loops are timed on this many samples and scaled
    order = rng.permutation(rows)[:part]

    def framework(lib):
        def setup():
            Xt, yt = lib.tensor(X), lib.tensor(y)
            w = lib.zeros(features, dtype=lib.float64, requires_grad=True)
            b = lib.zeros(1, dtype=lib.float64, requires_grad=True)
            idx = [int(i) for i in order]

            def sub_epoch():
                nonlocal w, b
                for i in idx:
                    loss = (Xt[i] @ w + b - yt[i]) ** 2 / 2
                    loss.backward()
                    with lib.no_grad():
                        w -= lr * w.grad
                        b -= lr * b.grad
                    w.grad = None
                    b.grad = None
            return sub_epoch
        return setup

    def numpy_setup():
        w, b = np.zeros(features), np.zeros(1)

        def sub_epoch():
            for i in order:
                err = X[i] @ w + b - y[i]
                w[...] -= lr * err * X[i]
                b[...] -= lr * err
        return sub_epoch

    compiled_rows = rows  # the whole epoch, on the same data as scikit-learn (lowered replays make it fast)

    def compiled_setup():
        Xt, yt = gdcore.tensor(X[:compiled_rows]), gdcore.tensor(y[:compiled_rows])
        w = gdcore.zeros(features, dtype=gdcore.float64, requires_grad=True)
        b = gdcore.zeros(1, dtype=gdcore.float64, requires_grad=True)
        optimizer = gdcore.optim.SGD([w, b], lr=lr)

        def sample_step(xb, yb):  # xb (1, 16), yb (1,)
            loss = ((xb @ w + b - yb) ** 2 / 2).sum()
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            return loss
        step = gdcore.compile(sample_step)
        loader = gdcore.data.DataLoader(gdcore.data.TensorDataset(Xt, yt), batch_size=1, shuffle=True,
                                        generator=gdcore.Generator(0))
        return lambda: step.run_epoch(loader)

    def c_setup():
        w, b = np.zeros(features), np.zeros(1)
        c_order = np.random.default_rng(1).permutation(rows).astype(np.int64)  # drawn once, outside the timing
        losses = np.empty(rows)
        return lambda: c_lib.ref_per_sample_sgd(X.ctypes.data, y.ctypes.data, c_order.ctypes.data, rows, features,
                                                w.ctypes.data, b.ctypes.data, lr, losses.ctypes.data)

    impls = {"gdcore": framework(gdcore), COMPILED: compiled_setup, "numpy": numpy_setup}
    if c_lib is not None:
        impls["C loop"] = c_setup
    if anchors.get("torch"):
        impls["torch"] = framework(anchors.get("torch"))
    scale = rows / part
    scales = {name: scale for name in impls}
    scales[COMPILED] = rows / compiled_rows
    if "C loop" in scales:
        scales["C loop"] = 1  # the whole epoch
    notes = [f"gdcore, numpy and torch run a Python loop per sample: timed on {part:,} samples, scaled x{scale:g} "
             "to the epoch",
             f"gdcore.compile: run_epoch (shuffled, batch_size=1) over all {compiled_rows:,} rows"]
    if c_lib is not None:
        notes.append("C loop: c_reference.c's ref_per_sample_sgd, one thread, over all rows in an order "
                     "shuffled once at setup (gdcore's row includes drawing its permutation)")
    workload = Workload("train.per_sample_sgd", "per-sample SGD epoch, 200,000 x 16 float64", impls,
                        scale=scales, notes=notes)
    sklearn = anchors.get("scikit-learn")
    if sklearn:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import SGDRegressor

        def sklearn_setup():
            model = SGDRegressor(loss="squared_error", penalty=None, learning_rate="constant", eta0=lr,
                                 max_iter=1, tol=None, shuffle=True, random_state=0)

            def epoch():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)  # one epoch on purpose
                    model.fit(X, y)
            return epoch
        workload.impls["scikit-learn"] = sklearn_setup  # the whole epoch is timed: not scaled
        workload.notes.append("scikit-learn: SGDRegressor(penalty=None, learning_rate='constant', shuffle=True), "
                              "fit() for one full epoch")
    return workload

