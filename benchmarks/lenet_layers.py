"""Where a LeNet step spends its time, layer by layer (issue 14): the forward and the backward of each
convolution, activation, pooling and the first Linear layer, on the shapes of LeNet-5 at batch 64
(`b64`: ReLU, max pooling, 32x32) or of the d2l LeNet at batch 256 (`d2l`: sigmoid, 2x2 average
pooling, 28x28, the first convolution padded by 2), for gdcore or torch, on one thread.

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.lenet_layers gdcore d2l
    OPENBLAS_NUM_THREADS=1 python -m benchmarks.lenet_layers torch b64

Times are CPU time of the calling thread (time.thread_time), the lower quartile of 20 calls: on a
shared machine that is steadier than wall time, and with one thread it is the whole cost. "bwd" is
the time of forward + backward (with a grad_output of ones) minus the forward. The first convolution's
input needs no gradient (as in training), so its backward is the weight and bias gradients only.
"""
from __future__ import annotations

import argparse
import time


def quartile_ms(f, n=20):
    for _ in range(3):
        f()
    ts = []
    for _ in range(n):
        t0 = time.thread_time()
        f()
        ts.append(time.thread_time() - t0)
    ts.sort()
    return ts[len(ts) // 4] * 1e3


def layer_times(lib, which):
    """[(layer, forward ms, backward ms)] for `lib` (gdcore or torch) on the shapes of `which`."""
    F = lib.nn.functional
    lib.manual_seed(0)
    if which == "d2l":
        batch, size, pad, act, pool = 256, 28, 2, lib.sigmoid, (lambda t: F.avg_pool2d(t, 2, 2))
    else:
        batch, size, pad, act, pool = 64, 32, 0, F.relu, (lambda t: F.max_pool2d(t, 2))
    side1 = size + 2 * pad - 4
    x = lib.randn(batch, 1, size, size)
    w1, b1 = lib.randn(6, 1, 5, 5, requires_grad=True), lib.randn(6, requires_grad=True)
    w2, b2 = lib.randn(16, 6, 5, 5, requires_grad=True), lib.randn(16, requires_grad=True)
    h1 = lib.randn(batch, 6, side1, side1, requires_grad=True)
    p1 = lib.randn(batch, 6, side1 // 2, side1 // 2, requires_grad=True)
    h2 = lib.randn(batch, 16, 10, 10, requires_grad=True)
    a = lib.randn(batch, 400, requires_grad=True)
    w3, b3 = lib.randn(120, 400, requires_grad=True), lib.randn(120, requires_grad=True)
    layers = [("conv1", lambda: F.conv2d(x, w1, b1, padding=pad)), ("act1", lambda: act(h1)), ("pool1", lambda: pool(h1)),
              ("conv2", lambda: F.conv2d(p1, w2, b2)), ("act2", lambda: act(h2)), ("pool2", lambda: pool(h2)),
              ("fc1", lambda: F.linear(a, w3, b3))]
    out = []
    for name, forward in layers:
        with lib.no_grad():
            t_forward = quartile_ms(forward)

        def both():
            y = forward()
            y.backward(lib.ones_like(y))
        out.append((name, t_forward, quartile_ms(both) - t_forward))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("library", choices=["gdcore", "torch"])
    parser.add_argument("shapes", choices=["b64", "d2l"])
    args = parser.parse_args()
    if args.library == "torch":
        import torch as lib
        lib.set_num_threads(1)
    else:
        import gdcore as lib
        lib._core._set_kernel_threads(1)
    for name, fwd, bwd in layer_times(lib, args.shapes):
        print(f"{args.library:<6} {args.shapes} {name:<6} fwd {fwd:7.3f} ms  bwd {bwd:7.3f} ms")


if __name__ == "__main__":
    main()
