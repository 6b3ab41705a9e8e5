"""Classification workloads (issue 12).

- A classification MLP training step: batch 32, 20 -> 32 -> 5 (ReLU), cross_entropy, SGD, eager and
  through gdcore.compile (against torch's eager step when torch is installed).
- cross_entropy forward and backward on 4096 x 1000 float32 logits with random class targets: gdcore's
  fused op, torch's, numpy written out (log-sum-exp and softmax - onehot), and the plain C loop
  (c_reference.c: one read of the logits, one write of the gradient, 8 bytes per logit for GB/s).
"""
from __future__ import annotations

import numpy as np

import gdcore

from .c_reference import address
from .report import COMPILED
from .workload import Workload


def _step_fn(lib, model, optimizer):
    def step(X, y):
        optimizer.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(X), y)
        loss.backward()
        optimizer.step()
        return loss
    return step


def mlp_step(anchors) -> Workload:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 20)).astype(np.float32)
    y = rng.integers(0, 5, 32).astype(np.int64)

    def framework(lib, compiled=False):
        def setup():
            lib.manual_seed(0)
            model = lib.nn.Sequential(lib.nn.Linear(20, 32), lib.nn.ReLU(), lib.nn.Linear(32, 5))
            fn = _step_fn(lib, model, lib.optim.SGD(model.parameters(), lr=0.01))
            if compiled:
                fn = lib.compile(fn)
            Xt, yt = lib.tensor(X), lib.tensor(y)
            return lambda: fn(Xt, yt)
        return setup

    impls = {"gdcore": framework(gdcore), COMPILED: framework(gdcore, compiled=True)}
    if anchors.get("torch"):
        impls["torch"] = framework(anchors.get("torch"))
    return Workload("train.classify_mlp", "MLP 20-32-5 step, batch 32 (cross_entropy + SGD)", impls)


def cross_entropy_backward(anchors, c_lib=None) -> Workload:
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((4096, 1000)).astype(np.float32)
    target = rng.integers(0, 1000, 4096).astype(np.int64)

    def framework(lib):
        def setup():
            z = lib.tensor(logits, requires_grad=True)
            t = lib.tensor(target)

            def step():
                z.grad = None
                loss = lib.nn.functional.cross_entropy(z, t)
                loss.backward()
                return loss
            return step
        return setup

    def numpy_setup():
        rows = np.arange(len(target))

        def step():
            shifted = logits - logits.max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            total = exp.sum(axis=1, keepdims=True)
            loss = (np.log(total[:, 0]) - shifted[rows, target]).mean()
            grad = exp / total
            grad[rows, target] -= 1.0
            grad /= len(target)
            return loss, grad
        return step

    def c_setup():
        grad = np.empty_like(logits)
        m, c = logits.shape
        return lambda: c_lib.ref_cross_entropy(address(logits), address(target), address(grad), m, c)

    impls = {"gdcore": framework(gdcore)}
    if c_lib is not None:
        impls["C loop"] = c_setup
    impls["numpy"] = numpy_setup
    if anchors.get("torch"):
        impls["torch"] = framework(anchors.get("torch"))
    return Workload("op.cross_entropy_4096x1000", "cross_entropy + backward, 4096 x 1000 float32 logits", impls,
                    bytes_per_call=8 * logits.size)


def classification_workloads(anchors, c_lib=None) -> list:
    return [mlp_step(anchors), cross_entropy_backward(anchors, c_lib)]
