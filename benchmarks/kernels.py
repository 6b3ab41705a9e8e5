"""Target 1: the bandwidth-bound kernels on 2^24 float32 elements.

SGD (plain), SGD with momentum, Adam, and mse_loss + its gradient, each as a user of the
library writes it (optimizer.step() with .grad set; loss = mse_loss(p, t); loss.backward()).
The C reference does the same arithmetic with the same memory traffic (c_reference.c), and
numpy does what a numpy user writes. GB/s counts the bytes the update must move: read every
operand once, write every result once.

Every array here starts on a 64-byte boundary (a cache line, one AVX-512 vector), as gdcore's
own buffers do (the momentum buffer, the MSE gradient): numpy puts a large array 16 bytes past
a page boundary (malloc's header), so without this the C loop and numpy read and write every
operand across cache lines while gdcore's own buffers are aligned, which is no like-with-like
comparison.
"""
from __future__ import annotations

import math
from typing import List

import numpy as np

import gdcore

from .c_reference import address
from .workload import Workload

LR = 1e-3
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8
ALIGN = 64  # bytes: a cache line and an AVX-512 vector


def aligned_empty(shape, dtype=np.float32) -> np.ndarray:
    """An uninitialised C-contiguous array whose data starts on an ALIGN-byte boundary."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    raw = np.empty(nbytes + ALIGN, np.uint8)
    start = (-raw.ctypes.data) % ALIGN
    return raw[start:start + nbytes].view(dtype).reshape(shape)  # (the view keeps `raw` alive)


def aligned_copy(a: np.ndarray) -> np.ndarray:
    out = aligned_empty(a.shape, a.dtype)
    out[...] = a
    return out


def _data(n: int, count: int) -> List[np.ndarray]:
    rng = np.random.default_rng(0)
    return [aligned_copy(rng.standard_normal(n, dtype=np.float32)) for _ in range(count)]


def kernel_workloads(n: int, anchors, c_lib) -> List[Workload]:
    base = _data(n, 4)
    base[3] = np.abs(base[3])  # Adam's exp_avg_sq is never negative
    torch = anchors.get("torch")

    def copies(count):
        return [aligned_copy(base[k]) for k in range(count)]

    def gd_param(values, grad):
        p = gdcore.from_numpy(values).requires_grad_(True)
        p.grad = gdcore.from_numpy(grad)
        return p

    def torch_param(values, grad):
        p = torch.from_numpy(values).requires_grad_(True)
        p.grad = torch.from_numpy(grad)
        return p

    def optimizer_impls(gd_make, torch_make, c_step, numpy_step):
        impls = {"gdcore": lambda: gd_make(gd_param(*copies(2))).step}
        if c_lib is not None:
            impls["C loop"] = c_step
        impls["numpy"] = numpy_step
        if torch:
            impls["torch"] = lambda: torch_make(torch_param(*copies(2))).step
        return impls

    # ---- SGD: p -= lr * g ----
    def c_sgd():
        p, g = copies(2)
        return lambda: c_lib.ref_sgd(address(p), address(g), n, LR)

    def numpy_sgd():
        p, g = copies(2)

        def step():
            nonlocal p
            p -= LR * g
        return step

    sgd = optimizer_impls(lambda p: gdcore.optim.SGD([p], lr=LR), lambda p: torch.optim.SGD([p], lr=LR),
                          c_sgd, numpy_sgd)

    # ---- SGD with momentum: b = m b + g; p -= lr b ----
    def c_momentum():
        p, g, b = copies(3)
        return lambda: c_lib.ref_momentum(address(p), address(g), address(b), n, LR, 0.9)

    def numpy_momentum():
        p, g, b = copies(3)

        def step():
            nonlocal p, b
            b *= 0.9
            b += g
            p -= LR * b
        return step

    momentum = optimizer_impls(lambda p: gdcore.optim.SGD([p], lr=LR, momentum=0.9),
                               lambda p: torch.optim.SGD([p], lr=LR, momentum=0.9), c_momentum, numpy_momentum)

    # ---- Adam ----
    def c_adam():
        p, g, m, v = copies(4)
        t = [0]

        def step():
            t[0] += 1
            c_lib.ref_adam(address(p), address(g), address(m), address(v), n, LR / (1 - BETA1 ** t[0]),
                           1 / math.sqrt(1 - BETA2 ** t[0]), BETA1, BETA2, EPS)
        return step

    def numpy_adam():
        p, g, m, v = copies(4)
        t = [0]

        def step():
            nonlocal p, m, v
            t[0] += 1
            m *= BETA1
            m += (1 - BETA1) * g
            v *= BETA2
            v += (1 - BETA2) * g * g
            denom = np.sqrt(v) / math.sqrt(1 - BETA2 ** t[0]) + EPS
            p -= (LR / (1 - BETA1 ** t[0])) * m / denom
        return step

    adam = optimizer_impls(lambda p: gdcore.optim.Adam([p], lr=LR), lambda p: torch.optim.Adam([p], lr=LR),
                           c_adam, numpy_adam)

    # ---- mse_loss + gradient ----
    def gd_mse():
        x, y = copies(2)
        pred, target = gdcore.from_numpy(x).requires_grad_(True), gdcore.from_numpy(y)

        def step():
            pred.grad = None
            gdcore.mse_loss(pred, target).backward()
        return step

    def c_mse():
        x, y = copies(2)
        grad = aligned_empty(x.shape)
        return lambda: c_lib.ref_mse(address(x), address(y), address(grad), n)

    def numpy_mse():
        x, y = copies(2)

        def step():
            d = x - y
            loss = (d * d).mean()
            grad = d * (2.0 / n)
            return loss, grad
        return step

    def torch_mse():
        x, y = copies(2)
        pred, target = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(y)

        def step():
            pred.grad = None
            torch.nn.functional.mse_loss(pred, target).backward()
        return step

    mse = {"gdcore": gd_mse}
    if c_lib is not None:
        mse["C loop"] = c_mse
    mse["numpy"] = numpy_mse
    if torch:
        mse["torch"] = torch_mse

    # ---- cross_entropy + gradient on 4096 x 1000 logits (fixed, as the issue states it) ----
    rows, classes = 4096, 1000
    ce_rng = np.random.default_rng(1)
    ce_x = aligned_copy(ce_rng.standard_normal((rows, classes)).astype(np.float32))
    ce_t = ce_rng.integers(0, classes, size=rows)

    def gd_ce():
        logits, target = gdcore.from_numpy(aligned_copy(ce_x)).requires_grad_(True), gdcore.from_numpy(ce_t.copy())

        def step():
            logits.grad = None
            gdcore.nn.functional.cross_entropy(logits, target).backward()
        return step

    def numpy_ce():
        x, t = aligned_copy(ce_x), ce_t.copy()

        def step():
            shifted = x - x.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            s = e.sum(axis=1, keepdims=True)
            loss = (np.log(s[:, 0]) - shifted[np.arange(rows), t]).mean()
            grad = e / s
            grad[np.arange(rows), t] -= 1.0
            grad /= rows
            return loss, grad
        return step

    def torch_ce():
        logits, target = torch.from_numpy(aligned_copy(ce_x)).requires_grad_(True), torch.from_numpy(ce_t.copy())

        def step():
            logits.grad = None
            torch.nn.functional.cross_entropy(logits, target).backward()
        return step

    def c_ce():
        x, t, grad = aligned_copy(ce_x), ce_t.astype(np.int64), aligned_empty(ce_x.shape)
        return lambda: c_lib.ref_cross_entropy(address(x), address(t), address(grad), rows, classes)

    ce = {"gdcore": gd_ce}
    if c_lib is not None:
        ce["C loop"] = c_ce
    ce["numpy"] = numpy_ce
    if torch:
        ce["torch"] = torch_ce

    size = f"2^{int(math.log2(n))}" if n & (n - 1) == 0 else str(n)
    return [
        Workload("kernel.sgd", f"SGD step, {size} float32", sgd, bytes_per_call=12 * n),
        Workload("kernel.momentum", f"SGD momentum step, {size} float32", momentum, bytes_per_call=20 * n),
        Workload("kernel.adam", f"Adam step, {size} float32", adam, bytes_per_call=28 * n),
        Workload("kernel.mse", f"mse_loss + backward, {size} float32", mse, bytes_per_call=12 * n,
                 notes=["gdcore/torch: p.grad = None; mse_loss(p, t).backward() (a fresh gradient each call)"]),
        Workload("kernel.cross_entropy", f"cross_entropy + backward, {rows} x {classes} float32 logits", ce,
                 bytes_per_call=8 * rows * classes,
                 notes=["gdcore/torch: logits.grad = None; cross_entropy(logits, target).backward()"]),
    ]
