"""The order in which reductions add, pinned bit for bit against plain loops.

Two loops have a fast path that must keep the order (and so the bits) of the general one:
- sum/mean/amax over leading dims of a contiguous tensor (a Linear layer's bias gradient,
  g.sum(0)) folds row by row into every output slot, as the general strided loop does;
- cross_entropy's row sum of exponentials adds its float lanes in double, in lane order, and
  stops at the lanes a short row filled (the others hold exp(-inf) = +0).
Each expected value is computed here with numpy and Python loops in that order; eager and
compiled steps must agree with it on every SIMD path this CPU supports.
"""
import math

import numpy as np
import pytest

import gdcore
from gdcore import _core

LANES = {"scalar": 8, "avx2": 8, "avx512": 16}  # float lanes of the row sum (scalar: 8 compiler-vectorised)


def leading_sum(x, lead):
    """x folded over its first `lead` dims, row by row, in double."""
    rows = x.reshape(int(np.prod(x.shape[:lead])), int(np.prod(x.shape[lead:])))
    acc = [0.0] * rows.shape[1]
    for row in rows:
        for k, v in enumerate(row):
            acc[k] += float(v)
    return np.array(acc).reshape(x.shape[lead:])


@pytest.mark.parametrize("shape, lead", [((32, 5), 1), ((7, 3, 4), 2), ((3, 1, 2, 5), 1), ((1, 9), 1), ((6, 0), 1),
                                         ((0, 4), 1), ((5, 2, 3), 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sum_and_mean_over_leading_dims_add_row_by_row(shape, lead, dtype):
    rng = np.random.default_rng(len(shape) * 10 + lead)
    x = (rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4, shape)).astype(dtype)
    t = gdcore.tensor(x)
    dims = list(range(lead))
    expected = leading_sum(x, lead)
    assert np.array_equal(t.sum(dims).numpy(), expected.astype(dtype))
    assert np.array_equal(t.sum(dims, keepdim=True).numpy(), expected.astype(dtype).reshape((1,) * lead + shape[lead:]))
    count = int(np.prod(shape[:lead]))
    if count:
        assert np.array_equal(t.mean(dims).numpy(), (expected * (1.0 / count)).astype(dtype))


def test_amax_over_leading_dims_and_nan():
    x = np.array([[1.0, np.nan, 3.0], [4.0, 2.0, -1.0], [0.5, 7.0, np.nan]], dtype=np.float32)
    out = gdcore.tensor(x).amax(0).numpy()
    assert out[0] == 4.0 and np.isnan(out[1]) and np.isnan(out[2])
    ints = np.arange(24, dtype=np.int64).reshape(4, 6) * np.array([1, -1, 2, -2, 3, -3])
    assert np.array_equal(gdcore.tensor(ints).sum(0).numpy(), ints.sum(0))


def test_transposed_input_takes_the_general_loop_and_agrees():
    x = np.random.default_rng(1).standard_normal((5, 8)).astype(np.float32)
    t = gdcore.tensor(x).t()  # (8, 5), not contiguous: reduced over dim 0 by the strided loop
    assert np.array_equal(t.sum(0).numpy(), leading_sum(np.ascontiguousarray(x.T), 1).astype(np.float32))


def test_bias_gradient_eager_and_compiled_agree_with_the_row_sum():
    rng = np.random.default_rng(2)
    X, W, b = (rng.standard_normal(s).astype(np.float32) for s in ((32, 20), (5, 20), (5,)))
    G = rng.standard_normal((32, 5)).astype(np.float32)
    w, bias = gdcore.tensor(W, requires_grad=True), gdcore.tensor(b, requires_grad=True)

    def step(x, g):
        w.grad = bias.grad = None
        (gdcore.nn.functional.linear(x, w, bias) * g).sum().backward()
        return bias.grad.clone()

    compiled = gdcore.compile(step)
    expected = leading_sum(G, 1).astype(np.float32)
    eager = step(gdcore.tensor(X), gdcore.tensor(G)).numpy()
    replays = [compiled(gdcore.tensor(X), gdcore.tensor(G)).numpy() for _ in range(3)]
    assert np.array_equal(eager, expected)
    for r in replays:
        assert np.array_equal(r, expected)


def row_loss(row, t, path):
    """cross_entropy of one row as the kernel adds it: float lanes, then double in lane order."""
    mx = row.max()
    e = _core._simd_exp((row - mx).astype(np.float32))
    width = LANES[path]
    lanes = np.zeros(width, dtype=np.float32)
    full = len(row) // width * width if path == "scalar" else len(row)
    for start in range(0, full, width):
        block = e[start:start + width]
        lanes[:len(block)] += block
    s = 0.0
    for v in lanes[:min(len(row), width)] if path != "scalar" else lanes:
        s += float(v)
    for v in e[full:]:  # scalar path: the rows' tail past the 8-lane blocks, in double
        s += float(v)
    return np.float32((float(mx) + math.log(s)) - float(row[t]))


@pytest.mark.parametrize("classes", [1, 3, 5, 8, 11, 16, 21, 40])
def test_cross_entropy_row_sum_adds_lanes_in_order(on_path, classes):
    rng = np.random.default_rng(classes)
    x = (rng.standard_normal((6, classes)) * 4).astype(np.float32)
    target = rng.integers(0, classes, 6)
    expected = np.array([row_loss(x[i], target[i], on_path) for i in range(6)])
    logits, labels = gdcore.tensor(x, requires_grad=True), gdcore.tensor(target)
    got = gdcore.nn.functional.cross_entropy(logits, labels, reduction="none").detach().numpy()
    assert np.array_equal(got, expected)

    def step(z, y):
        return gdcore.nn.functional.cross_entropy(z, y, reduction="none")

    compiled = gdcore.compile(step)
    for _ in range(3):
        assert np.array_equal(compiled(logits, labels).detach().numpy(), expected)


# The vector kernel of those leading-dim sums (kernels/simd/sum_rows_loops.hpp) on each SIMD path:
# one column per lane, so every column count around the vector widths (4 and 8 doubles), with
# register blocks of four vectors (up to 32 columns), and arrays past its 128 KB register limit,
# which are walked row by row. The expected chains are numpy's row-by-row adds in float64.

def column_chains(x, lead):
    """x summed over its first `lead` dims in float64, row by row from +0.0 (each column's chain in order)."""
    rows = x.reshape(int(np.prod(x.shape[:lead])), -1).astype(np.float64)
    acc = np.zeros(rows.shape[1])
    with np.errstate(all="ignore"):  # inf - inf and overflow are part of the cases
        for row in rows:
            acc = acc + row
    return acc.reshape(x.shape[lead:])


def bits(a):
    a = np.ascontiguousarray(a)
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def spread(rng, shape, dtype):
    """Values over seven decades, so that the order of the additions shows in the low bits."""
    return (rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4, shape)).astype(dtype)


@pytest.mark.parametrize("lead_shape", [(1,), (3,), (32,), (2, 3, 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sum_rows_kernel_keeps_each_columns_chain(on_path, dtype, lead_shape):
    rng = np.random.default_rng(len(lead_shape) * 100 + lead_shape[0])
    dims = list(range(len(lead_shape)))
    for n in range(1, 34):
        for tail in ((n,), (1, n)) if n % 4 == 1 else ((n,),):
            x = spread(rng, lead_shape + tail, dtype)
            t = gdcore.tensor(x)
            expected = column_chains(x, len(lead_shape))
            count = int(np.prod(lead_shape))
            assert np.array_equal(bits(t.sum(dims).numpy()), bits(expected.astype(dtype))), (on_path, n, tail)
            assert np.array_equal(bits(t.mean(dims).numpy()), bits((expected * (1.0 / count)).astype(dtype))), (on_path, n)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sum_rows_kernel_signed_zeros_infinities_and_nan(on_path, dtype):
    x = np.zeros((5, 19), dtype=dtype)
    x[:, 0] = -0.0                    # -0.0 added to +0.0 is +0.0, as the plain loop's chain
    x[2, 1] = np.inf
    x[1, 2], x[3, 2] = np.inf, -np.inf
    x[4, 3] = np.nan
    x[:, 4:] = spread(np.random.default_rng(5), (5, 15), dtype)
    x[0, 18] = np.finfo(dtype).max    # max + max: inf in float64; in float32 the double sum rounds to inf
    x[1, 18] = np.finfo(dtype).max
    got = gdcore.tensor(x).sum(0).numpy()
    with np.errstate(over="ignore"):
        expected = column_chains(x, 1).astype(dtype)
    assert np.array_equal(bits(got), bits(expected))
    assert not np.signbit(got[0]) and got[1] == np.inf and np.isnan(got[2]) and np.isnan(got[3]) and got[18] == np.inf


@pytest.mark.parametrize("shape", [(300, 67), (2100, 17)])  # past the 128 KB register limit in float32 and float64
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sum_rows_kernel_on_large_arrays_walks_rows_with_the_same_chains(on_path, dtype, shape):
    x = spread(np.random.default_rng(shape[1]), shape, dtype)
    expected = column_chains(x, 1)
    t = gdcore.tensor(x)
    assert np.array_equal(bits(t.sum(0).numpy()), bits(expected.astype(dtype)))
    assert np.array_equal(bits(t.mean(0).numpy()), bits((expected * (1.0 / shape[0])).astype(dtype)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_contiguous_inputs_take_the_general_loop_with_the_same_chains(on_path, dtype):
    x = spread(np.random.default_rng(9), (12, 40), dtype)
    base = gdcore.tensor(x)
    for view, ref in ((base[:, ::2], x[:, ::2]), (base[:, 3:20], x[:, 3:20]), (base.t(), x.T)):
        assert not view.is_contiguous()
        got = view.sum(0).numpy()
        assert np.array_equal(bits(got), bits(column_chains(np.ascontiguousarray(ref), 1).astype(dtype)))


def test_compiled_bias_gradients_replay_the_kernel_on_every_path(on_path):
    rng = np.random.default_rng(11)
    X, W, G = (rng.standard_normal(s).astype(np.float32) for s in ((32, 20), (33, 20), (32, 33)))
    w = gdcore.tensor(W, requires_grad=True)
    bias = gdcore.tensor(np.zeros(33, dtype=np.float32), requires_grad=True)

    def step(x, g):
        w.grad = bias.grad = None
        (gdcore.nn.functional.linear(x, w, bias) * g).sum().backward()
        return bias.grad.clone()

    compiled = gdcore.compile(step)
    expected = bits(column_chains(G, 1).astype(np.float32))
    for _ in range(3):
        assert np.array_equal(bits(compiled(gdcore.tensor(X), gdcore.tensor(G)).numpy()), expected)
    assert np.array_equal(bits(step(gdcore.tensor(X), gdcore.tensor(G)).numpy()), expected)
