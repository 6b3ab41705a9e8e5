"""The per-sample fast paths of gdcore.compile's lowered replay: chains of elementwise loops run
fused (cpp/src/autograd/lowered_fusion.cpp) and tiny dot / column products run bodies
specialised by size (cpp/src/kernels/tiny_products.hpp). Every case checks, on each SIMD path
this CPU has, that the compiled step gives the eager step's bytes, including shapes that miss
the specialisations (the fallbacks) and fused chains whose loops alias; the tiny products are
also checked against a plain-Python loop in the same summation order."""
import os
import subprocess
import sys

import numpy as np
import pytest

import gdcore
from epoch_runs import as_bytes, lowered_program, regression_epochs


# 16 features: the benchmark's shape; 1, 2, 3, 5, 32: the dot's tail and the ends of the
# specialised sizes; 33 and 70: beyond them (gemm_plain); batch 4: no dot product at all.
@pytest.mark.parametrize("features, batch_size", [(16, 1), (1, 1), (2, 1), (3, 1), (5, 1), (32, 1), (33, 1),
                                                  (70, 1), (16, 4)])
@pytest.mark.parametrize("dtype", [gdcore.float64, gdcore.float32], ids=["float64", "float32"])
def test_regression_epoch_compiled_gives_the_eager_bytes(on_path, features, batch_size, dtype):
    rng = np.random.default_rng(features)
    X = rng.standard_normal((24, features))
    y = X @ rng.standard_normal(features) + 0.1 * rng.standard_normal(24)
    eager, _ = regression_epochs(X, y, batch_size, False, dtype)
    compiled, run = regression_epochs(X, y, batch_size, True, dtype)
    assert eager == compiled
    assert lowered_program(run).lowering == "lowered"
    assert lowered_program(run).fused_loops >= 4  # the forward's add, sub, square and halving at least


def dot_in_four_sums(x, y):
    """The documented order of gemm_plain's dot product, in plain Python floats."""
    k = len(x)
    s = [0.0, 0.0, 0.0, 0.0]
    body = k - k % 4
    for p in range(0, body, 4):
        for j in range(4):
            s[j] += x[p + j] * y[p + j]
    total = (s[0] + s[1]) + (s[2] + s[3])
    for p in range(body, k):
        total += x[p] * y[p]
    return 0.0 + total


@pytest.mark.parametrize("k", [2, 3, 4, 7, 16, 31, 32, 33, 50])
def test_dot_product_matches_the_four_sum_loop(on_path, k):
    rng = np.random.default_rng(k)
    x, y = rng.standard_normal(k), rng.standard_normal(k)
    got = (gdcore.tensor(x).reshape(1, k) @ gdcore.tensor(y).reshape(k, 1)).numpy()
    assert got.tobytes() == np.array([[dot_in_four_sums(list(x), list(y))]]).tobytes()


@pytest.mark.parametrize("m", [1, 2, 15, 16, 32, 33])
def test_column_times_a_number_matches_the_plain_product(on_path, m):
    rng = np.random.default_rng(m)
    a = rng.standard_normal(m)
    a[0] = -0.0  # 0 + (0 + -0.0 * b) is +0.0, as adding into a zeroed C gives
    b = rng.standard_normal(1)
    got = (gdcore.tensor(a).reshape(m, 1) @ gdcore.tensor(b).reshape(1, 1)).numpy()
    assert got.tobytes() == np.array([[0.0 + (0.0 + v * b[0])] for v in a]).tobytes()


def chain_step(P):
    """A chain of elementwise ops on a parameter, some of them in place (aliasing loops)."""
    def step(x):
        h = x * P + 1.5
        h = h * h - x
        h.mul_(0.5)
        h.add_(x)
        g = (h / 3.0).exp()
        (g.sum() + (g * x).sum()).backward()
        grad = P.grad.clone()
        P.grad = None
        return g, grad
    return step


# 3000 elements: more than one chunk of the fused loop (1024); 1 and 5: the short chains.
@pytest.mark.parametrize("n", [1, 5, 3000])
def test_fused_chains_with_in_place_ops_give_the_eager_bytes(on_path, n):
    gen = gdcore.Generator(n)
    xs = [gdcore.randn(n, dtype=gdcore.float64, generator=gen) for _ in range(4)]
    start = gdcore.randn(n, dtype=gdcore.float64, generator=gen)
    runs = []
    for compiled in (False, True):
        P = start.clone().requires_grad_()
        step = gdcore.compile(chain_step(P)) if compiled else chain_step(P)
        runs.append([as_bytes(step(x)) for x in xs])
    assert runs[0] == runs[1]
    assert lowered_program(step).lowering == "lowered"
    assert lowered_program(step).fused_loops >= 2


def test_one_element_input_changed_in_place_later_in_the_step():
    """s[0] is read as a one-element input of a long loop and s is changed in place later in the step:
    each replay must read the value of its own time. (Where such a write is itself a fusable loop the
    run is cut there; tests/cpp/test_lowered_fusion.cpp checks that cut directly.)"""
    n = 3000
    x0 = gdcore.linspace(-1, 1, n, dtype=gdcore.float64)
    runs = []
    for compiled in (False, True):
        s = gdcore.tensor([2.0], dtype=gdcore.float64)
        out = gdcore.zeros(n, dtype=gdcore.float64)

        def step(x):
            out.copy_(x * s[0])
            s.mul_(1.5)
            return out * 1.0
        run = gdcore.compile(step) if compiled else step
        runs.append([as_bytes([run(x0 + i)]) for i in range(4)] + [as_bytes([s])])
    assert runs[0] == runs[1]


def test_fusion_can_be_switched_off_with_the_same_bytes():
    code = ("import numpy as np, gdcore\n"
            "from gdcore import optim\n"
            "X = np.random.default_rng(0).standard_normal((40, 16))\n"
            "w = gdcore.zeros(16, dtype=gdcore.float64, requires_grad=True)\n"
            "b = gdcore.zeros(1, dtype=gdcore.float64, requires_grad=True)\n"
            "opt = optim.SGD([w, b], lr=0.01)\n"
            "def step(xb, yb):\n"
            "    loss = ((xb @ w + b - yb) ** 2 / 2).sum(); loss.backward(); opt.step(); opt.zero_grad()\n"
            "    return loss\n"
            "run = gdcore.compile(step)\n"
            "ds = gdcore.data.TensorDataset(gdcore.tensor(X), gdcore.tensor(X.sum(1)))\n"
            "run.run_epoch(gdcore.data.DataLoader(ds, batch_size=1, shuffle=True, generator=gdcore.Generator(1)))\n"
            "(c,) = run._captures.values()\n"
            "print(c.program.fused_loops, w.detach().numpy().tobytes().hex(), b.detach().numpy().tobytes().hex())\n")
    outs = []
    for fuse in ("1", "0"):
        env = dict(os.environ, GDCORE_COMPILE_FUSE=fuse)
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        outs.append(done.stdout.split())
    assert int(outs[0][0]) >= 4 and outs[1][0] == "0"
    assert outs[0][1:] == outs[1][1:]
