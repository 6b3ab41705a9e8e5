"""The SIMD loops of a Linear-ReLU layer (kernels/simd/activation_loops.hpp): the bias row added to
every row (x @ w.t() + b), relu, and relu's backward g * (y > 0), on every SIMD path. Each must give
the bits of the plain expression: checked against numpy computing the same expression, and against
gdcore's general loops (a view that is not contiguous, a tensor below the loops' size, a recorded
backward), which were the only path before."""
import numpy as np
import pytest

import gdcore
from gdcore import _core

DTYPES = [np.float32, np.float64]
# Element counts around the vector widths (4, 8, 16 lanes) and the loops' lower limit of 64.
COUNTS = [64, 65, 71, 72, 79, 80, 95, 96, 127, 128, 129, 200, 1024, 1031]


def _specials(x, dtype):
    """Puts the edge values into x (flat): signed zeros, infinities, NaN, the smallest subnormals."""
    tiny = np.finfo(dtype).smallest_subnormal
    vals = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, tiny, -tiny, np.finfo(dtype).max], dtype=dtype)
    flat = x.reshape(-1)
    k = min(len(vals), flat.size)
    flat[:k] = vals[:k]
    return x


def _bits(a):
    return np.ascontiguousarray(np.asarray(a)).view(np.uint8 if a.dtype == np.uint8 else a.dtype).tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", COUNTS)
def test_relu_forward_and_backward_bits(on_path, dtype, n):
    rng = np.random.default_rng(n)
    x = _specials(rng.standard_normal(n).astype(dtype), dtype)
    g = rng.standard_normal(n).astype(dtype)
    g[::7] = -g[::7]
    g[3] = np.inf
    xt = gdcore.tensor(x, requires_grad=True)
    y = gdcore.relu(xt)
    y.backward(gdcore.tensor(g))
    want_y = np.where(x > 0, x, dtype(0))  # x > 0 ? x : 0 (NaN -> 0, -0 -> +0)
    with np.errstate(invalid="ignore"):  # (inf * 0 = NaN, as in the loops)
        want_g = g * (want_y > 0).astype(dtype)  # the float mask of compare(y, 0, Gt), then the product
    assert _bits(y.detach().numpy()) == _bits(want_y)
    assert _bits(xt.grad.numpy()) == _bits(want_g)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [64, 77, 96, 1031])
def test_relu_loops_match_the_general_loops(on_path, dtype, n):
    rng = np.random.default_rng(1)
    x = _specials(rng.standard_normal((n, 2)).astype(dtype), dtype)
    g = rng.standard_normal((n, 2)).astype(dtype)
    # Contiguous (the SIMD loops) against a transposed view of the same values (the general loops).
    a = gdcore.tensor(x, requires_grad=True)
    b_store = gdcore.tensor(np.ascontiguousarray(x.T), requires_grad=True)
    ya, yb = gdcore.relu(a), gdcore.relu(b_store.t())
    assert not b_store.t().is_contiguous()
    assert _bits(ya.detach().numpy()) == _bits(np.ascontiguousarray(yb.detach().numpy()))
    ya.backward(gdcore.tensor(g))
    # A recorded backward (create_graph) takes the general mask-and-product ops; so does a size below the loops'.
    xc = gdcore.tensor(x, requires_grad=True)
    (gc,) = gdcore.autograd.grad(gdcore.relu(xc), [xc], gdcore.tensor(g), create_graph=True)
    assert _bits(a.grad.numpy()) == _bits(gc.detach().numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows,cols", [(1, 2), (3, 5), (32, 5), (32, 32), (7, 7), (5, 8), (9, 9), (4, 16),
                                       (3, 17), (2, 33), (6, 4), (40, 3)])
def test_add_row_bits(on_path, dtype, rows, cols):
    rng = np.random.default_rng(rows * 100 + cols)
    x = _specials(rng.standard_normal((rows, cols)).astype(dtype), dtype)
    b = rng.standard_normal(cols).astype(dtype)
    b[0] = -np.inf if cols > 3 else b[0]
    got = (gdcore.tensor(x) + gdcore.tensor(b)).numpy()
    with np.errstate(invalid="ignore"):
        want = x + b  # row by row, the same IEEE sum per element
    assert _bits(got) == _bits(want)
    # The general broadcast loop on a view that is not contiguous gives the same bits.
    xt = gdcore.tensor(np.ascontiguousarray(x.T)).t()
    assert _bits(np.ascontiguousarray((xt + gdcore.tensor(b)).numpy())) == _bits(want)


def test_add_row_leaves_other_shapes_to_the_general_loops():
    x = gdcore.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    assert np.array_equal((x + gdcore.tensor(np.ones((1, 4), np.float32))).numpy(), x.numpy() + 1)  # a 2-d row
    assert np.array_equal((x + gdcore.tensor(np.ones(4, np.float64))).numpy(), x.numpy() + 1)  # promotes to float64
    assert (x + gdcore.tensor(np.ones(4, np.float64))).dtype == gdcore.float64
    with pytest.raises(ValueError):
        x + gdcore.tensor(np.ones(3, np.float32))


def test_linear_relu_gradcheck_float64():
    rng = np.random.default_rng(2)
    x = gdcore.tensor(rng.standard_normal((16, 6)), requires_grad=True)
    w = gdcore.tensor(rng.standard_normal((8, 6)), requires_grad=True)
    b = gdcore.tensor(rng.standard_normal(8), requires_grad=True)
    # 16 x 8 = 128 elements: the bias row loop, relu's loop and its backward's loop all run.
    assert gdcore.autograd.gradcheck(lambda x, w, b: gdcore.relu(x @ w.t() + b), (x, w, b))


def test_relu_second_derivative_through_the_general_ops():
    x = gdcore.tensor(np.linspace(-2, 2, 100), requires_grad=True)
    (g,) = gdcore.autograd.grad(gdcore.relu(x).pow(2).sum(), [x], create_graph=True)
    (h,) = gdcore.autograd.grad(g.sum(), [x])
    assert np.array_equal(h.numpy(), 2.0 * (x.detach().numpy() > 0))


@pytest.mark.parametrize("dtype", DTYPES)
def test_compiled_mlp_step_matches_eager(on_path, dtype):
    """A Linear-ReLU-Linear step with cross_entropy, eager and compiled (lowered), bit for bit."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((32, 20)).astype(dtype)
    y = rng.integers(0, 5, 32)

    def run(compiled):
        gdcore.manual_seed(0)
        nn = gdcore.nn
        model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 5)).to(
            gdcore.float64 if dtype == np.float64 else gdcore.float32)
        opt = gdcore.optim.SGD(model.parameters(), lr=0.1)

        def step(a, t):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(a), t)
            loss.backward()
            opt.step()
            return loss
        f = gdcore.compile(step) if compiled else step
        losses = [f(gdcore.tensor(X), gdcore.tensor(y)).item() for _ in range(4)]
        return losses, [p.detach().numpy().copy() for p in model.parameters()]

    (le, pe), (lc, pc) = run(False), run(True)
    assert le == lc
    for a, b in zip(pe, pc):
        assert _bits(a) == _bits(b)
