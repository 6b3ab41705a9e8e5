"""The elementwise ops of the breadth round (gdcore/pointwise.py, cpp/src/ops/remainder.cpp and
inverse_trig.cpp): values against numpy and plain Python, gradients against finite differences in
float64 over hypothesis shapes with broadcasting, result dtypes against torch's table written out
here, the operators % and // and the in-place forms."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gdcore
from gdcore.autograd import gradcheck

SETTINGS = settings(max_examples=12, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
pair_shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=4)
triple_shapes = hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, min_side=1, max_side=3)


def leaf(a):
    return gdcore.tensor(np.asarray(a, dtype=np.float64), dtype=gdcore.float64, requires_grad=True)


def check(f, np_f, *arrays, rtol=1e-10, atol=1e-12):
    xs = [leaf(a) for a in arrays]
    out = f(*xs)
    expected = np.asarray(np_f(*[np.asarray(a, dtype=np.float64) for a in arrays]))
    assert tuple(out.shape) == expected.shape
    assert out.dtype == gdcore.float64
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=rtol, atol=atol)
    assert gradcheck(f, xs)


# ---- remainder, fmod, floor_divide: values ----

INTS = [(a, b) for a in range(-7, 8) for b in (-3, -2, -1, 1, 2, 3, 5)]


def test_integer_division_matches_python():
    a = gdcore.tensor([p[0] for p in INTS])
    b = gdcore.tensor([p[1] for p in INTS])
    assert (a % b).tolist() == [x % y for x, y in INTS]
    assert (a // b).tolist() == [x // y for x, y in INTS]
    assert gdcore.fmod(a, b).tolist() == [int(math.fmod(x, y)) for x, y in INTS]
    assert gdcore.remainder(a, b).dtype == gdcore.int64 and (a // b).dtype == gdcore.int64


def test_float_division_matches_python():
    rng = np.random.default_rng(0)
    a = rng.uniform(-10, 10, 200)
    b = rng.choice([-1, 1], 200) * rng.uniform(0.3, 4, 200)
    ta, tb = gdcore.tensor(a, dtype=gdcore.float64), gdcore.tensor(b, dtype=gdcore.float64)
    np.testing.assert_array_equal((ta % tb).numpy(), [x % y for x, y in zip(a, b)])
    np.testing.assert_array_equal((ta // tb).numpy(), [x // y for x, y in zip(a, b)])
    np.testing.assert_array_equal(gdcore.fmod(ta, tb).numpy(), [math.fmod(x, y) for x, y in zip(a, b)])


def test_float_edge_cases():
    inf, nan = math.inf, math.nan
    r = gdcore.remainder(gdcore.tensor([1.0, -1.0, 1.0, -1.0]), gdcore.tensor([0.0, 0.0, inf, inf]))
    out = r.tolist()
    assert math.isnan(out[0]) and math.isnan(out[1]) and out[2] == 1.0 and out[3] == inf  # (torch's values)
    assert gdcore.floor_divide(gdcore.tensor([1.0, -1.0]), 0.0).tolist() == [inf, -inf]
    q = gdcore.floor_divide(gdcore.tensor([-0.5, 0.5]), gdcore.tensor([2.0, -2.0]))
    assert q.tolist() == [-1.0, -1.0]
    assert math.isnan(gdcore.fmod(gdcore.tensor([inf]), 2.0).item())
    assert np.isnan(gdcore.fmod(gdcore.tensor([nan]), 2.0).item())


def test_int64_extremes_do_not_crash():
    lo = gdcore.tensor([-2**63])
    assert (lo // -1).tolist() == [-2**63]  # wraps, as torch
    assert (lo % -1).tolist() == [0]
    assert gdcore.fmod(lo, -1).tolist() == [0]


def test_narrow_integer_dtypes():
    a = gdcore.tensor([-7, 7, -128], dtype=gdcore.int8)
    assert (a // 2).dtype == gdcore.int8 and (a // 2).tolist() == [-4, 3, -64]
    assert (a % 3).tolist() == [2, 1, 1]
    u = gdcore.tensor([7, 200], dtype=gdcore.uint8)
    assert (u % 3).dtype == gdcore.uint8 and (u % 3).tolist() == [1, 2]


# torch's result dtypes: (input, other) -> result
PROMOTION = [
    (gdcore.tensor([5, -5]), 2, gdcore.int64),
    (gdcore.tensor([5, -5]), 2.5, gdcore.float32),
    (gdcore.tensor([5, -5], dtype=gdcore.int32), gdcore.tensor([2, 3]), gdcore.int64),
    (gdcore.tensor([5, -5], dtype=gdcore.int32), gdcore.tensor(2), gdcore.int32),
    (gdcore.tensor([5.0, -5.0]), gdcore.tensor([2.0, 3.0], dtype=gdcore.float64), gdcore.float64),
    (gdcore.tensor([5.0, -5.0]), gdcore.tensor(2.0, dtype=gdcore.float64), gdcore.float32),
    (gdcore.tensor([5, -5]), gdcore.tensor([2.0, 3.0]), gdcore.float32),
    (gdcore.tensor([True, False]), 3, gdcore.int64),
]


@pytest.mark.parametrize("op", [gdcore.remainder, gdcore.fmod, gdcore.floor_divide])
@pytest.mark.parametrize("a, b, dtype", PROMOTION)
def test_result_dtype(op, a, b, dtype):
    assert op(a, b).dtype == dtype


def test_reflected_and_number_first():
    t = gdcore.tensor([3, -4, 5])
    assert (7 % t).tolist() == [7 % 3, 7 % -4, 7 % 5]
    assert (7 // t).tolist() == [7 // 3, 7 // -4, 7 // 5]
    assert (7.5 % t).dtype == gdcore.float32 and (7.5 % t).tolist() == [7.5 % 3, 7.5 % -4, 7.5 % 5]
    assert gdcore.remainder(7, t).tolist() == [1, -1, 2]
    assert (t % gdcore.tensor(2)).tolist() == [1, 0, 1]


def test_inplace_operators_and_methods():
    x = gdcore.tensor([5.0, -3.0])
    alias = x
    x %= 2
    assert alias is x and x.tolist() == [1.0, 1.0]
    y = gdcore.tensor([5, -3])
    y //= 2
    assert y.tolist() == [2, -2] and y.dtype == gdcore.int64
    z = gdcore.tensor([5.0, -3.0])
    assert z.fmod_(2) is z and z.tolist() == [1.0, -1.0]
    w = gdcore.tensor([5, -3])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        w %= 2.5
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        gdcore.ones(3).remainder_(gdcore.ones(2, 3))


def test_inplace_keeps_history():
    p = leaf([5.0, -3.0, 2.5])
    h = p * 3
    h %= 2
    h.sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), [3.0, 3.0, 3.0])


@SETTINGS
@given(pair_shapes, seeds)
def test_remainder_fmod_gradcheck(shapes_, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes_.input_shapes
    b = rng.choice([-1, 1], sb) * rng.uniform(0.5, 2.0, sb)
    a = rng.uniform(-5, 5, sa)
    # (a / b lands within gradcheck's step of an integer, where the rounding jumps, with probability ~1e-6)
    check(gdcore.remainder, lambda x, y: x - y * np.floor(x / y), a, b)
    check(gdcore.fmod, np.fmod, a, b)


def test_remainder_gradients_closed_form():
    a, b = leaf([5.0, -5.0, 5.0, -5.0]), leaf([3.0, 3.0, -3.0, -3.0])
    gdcore.remainder(a, b).sum().backward()
    assert a.grad.tolist() == [1.0] * 4 and b.grad.tolist() == [-1.0, 2.0, 2.0, -1.0]  # -floor(a/b)
    a, b = leaf([5.0, -5.0, 5.0, -5.0]), leaf([3.0, 3.0, -3.0, -3.0])
    gdcore.fmod(a, b).sum().backward()
    assert b.grad.tolist() == [-1.0, 1.0, 1.0, -1.0]  # -trunc(a/b)


def test_floor_divide_backward_raises_as_torch():
    a = leaf([5.0, 2.0])
    q = a // 2
    assert q.requires_grad
    with pytest.raises(RuntimeError, match="derivative for 'floor_divide' is not implemented"):
        q.sum().backward()


def test_integer_division_by_zero_raises():
    for op in (gdcore.remainder, gdcore.fmod, gdcore.floor_divide):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            op(gdcore.tensor([5, 3]), gdcore.tensor([2, 0]))


# ---- inverse trigonometric functions, exp2 ----

UNARY = {
    "asin": (gdcore.asin, np.arcsin, (-0.9, 0.9)),
    "acos": (gdcore.acos, np.arccos, (-0.9, 0.9)),
    "atan": (gdcore.atan, np.arctan, (-3, 3)),
    "asinh": (gdcore.asinh, np.arcsinh, (-3, 3)),
    "acosh": (gdcore.acosh, np.arccosh, (1.1, 4)),
    "atanh": (gdcore.atanh, np.arctanh, (-0.9, 0.9)),
    "exp2": (gdcore.exp2, np.exp2, (-3, 3)),
    "logit": (gdcore.logit, lambda p: np.log(p / (1 - p)), (0.05, 0.95)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_unary_gradcheck(name, shape, seed):
    f, np_f, (lo, hi) = UNARY[name]
    check(f, np_f, np.random.default_rng(seed).uniform(lo, hi, shape))


@pytest.mark.parametrize("name", ["asin", "acos", "atan", "asinh", "acosh", "atanh", "exp2"])
def test_unary_second_order(name):
    """The backward rules are differentiable: d/dx of the first derivative against central differences of it."""
    f, np_f, (lo, hi) = UNARY[name]
    x0 = np.linspace(lo, hi, 5)

    def first(values, create_graph=False):
        x = leaf(values)
        return x, gdcore.autograd.grad(f(x).sum(), x, create_graph=create_graph)[0]
    x, g1 = first(x0, create_graph=True)
    (g2,) = gdcore.autograd.grad(g1.sum(), x)
    h = 1e-6
    numeric = (first(x0 + h)[1].numpy() - first(x0 - h)[1].numpy()) / (2 * h)
    np.testing.assert_allclose(g2.numpy(), numeric, rtol=1e-5, atol=1e-6)


def test_aliases_methods_and_int_inputs():
    x = gdcore.tensor([0.25, -0.5])
    for name, alias in [("asin", "arcsin"), ("acos", "arccos"), ("atan", "arctan"), ("asinh", "arcsinh"),
                        ("atanh", "arctanh")]:
        assert getattr(gdcore, alias)(x).tolist() == getattr(gdcore, name)(x).tolist()
        np.testing.assert_allclose(getattr(x, alias)().numpy(), getattr(np, alias)(x.numpy()), rtol=1e-6)
    assert gdcore.arccosh(x + 2).tolist() == gdcore.acosh(x + 2).tolist()
    assert gdcore.arctan2(x, 2.0).tolist() == gdcore.atan2(x, 2.0).tolist()
    assert gdcore.asin(gdcore.tensor([1])).dtype == gdcore.float32
    assert gdcore.exp2(gdcore.tensor([3])).tolist() == [8.0]
    assert math.isnan(gdcore.asin(gdcore.tensor([2.0])).item())
    y = gdcore.tensor([0.25, -0.5])
    assert y.asin_() is y and np.allclose(y.numpy(), np.arcsin([0.25, -0.5]))


def test_logit_eps():
    p = leaf([0.0, 0.05, 0.3, 1.0])
    out = gdcore.logit(p, eps=0.1)
    expected = np.log(np.clip([0.0, 0.05, 0.3, 1.0], 0.1, 0.9) / (1 - np.clip([0.0, 0.05, 0.3, 1.0], 0.1, 0.9)))
    np.testing.assert_allclose(out.detach().numpy(), expected)
    out.sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), [0.0, 0.0, 1 / (0.3 * 0.7), 0.0])
    assert gdcore.logit(gdcore.tensor([0, 1])).tolist() == [-math.inf, math.inf]


# ---- atan2, hypot, xlogy ----

@SETTINGS
@given(pair_shapes, seeds)
def test_binary_gradcheck(shapes_, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes_.input_shapes
    a = rng.uniform(0.2, 2, sa) * rng.choice([-1, 1], sa)
    b = rng.uniform(0.2, 2, sb) * rng.choice([-1, 1], sb)
    check(gdcore.atan2, np.arctan2, a, b)
    check(gdcore.hypot, np.hypot, a, b)
    check(gdcore.xlogy, lambda x, y: x * np.log(y), a, np.abs(b))


def test_hypot_does_not_overflow_and_dtypes():
    assert gdcore.hypot(gdcore.tensor([3e30]), gdcore.tensor([4e30])).item() == pytest.approx(5e30)
    assert gdcore.atan2(gdcore.tensor([1]), gdcore.tensor([2])).dtype == gdcore.float32
    assert gdcore.atan2(gdcore.tensor([1.0], dtype=gdcore.float64), 2).dtype == gdcore.float64
    np.testing.assert_allclose(gdcore.tensor([1.0, -1.0]).atan2(gdcore.tensor([-1.0, -1.0])).numpy(),
                               np.arctan2([1.0, -1.0], [-1.0, -1.0]), rtol=1e-6)


def test_xlogy_zeros_and_numbers():
    x, y = leaf([0.0, 0.0, 0.0, 2.0]), leaf([0.0, 3.0, -1.0, 3.0])
    out = gdcore.xlogy(x, y)
    assert out.tolist() == [0.0, 0.0, 0.0, pytest.approx(2 * math.log(3))]
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, math.log(3), 0.0, math.log(3)])  # torch's masked values
    assert math.isnan(gdcore.xlogy(gdcore.tensor([0.0]), gdcore.tensor([math.nan])).item())
    assert gdcore.xlogy(2, gdcore.tensor([3.0])).item() == pytest.approx(2 * math.log(3))
    assert gdcore.xlogy(gdcore.tensor([2]), 3).dtype == gdcore.float32


# ---- lerp, addmm, addmv, baddbmm, addcmul, addcdiv ----

@SETTINGS
@given(triple_shapes, seeds)
def test_lerp_and_addc_gradcheck(shapes_, seed):
    rng = np.random.default_rng(seed)
    s1, s2, s3 = shapes_.input_shapes
    a, b, w = rng.normal(size=s1), rng.normal(size=s2), rng.uniform(-1, 2, s3)
    w = np.where(np.abs(np.abs(w) - 0.5) < 0.05, 0.3, w)
    check(gdcore.lerp, lambda x, y, t: x + t * (y - x), a, b, w)
    check(lambda x, y: gdcore.lerp(x, y, 0.3), lambda x, y: x + 0.3 * (y - x), a, b)
    check(lambda x, y: gdcore.lerp(x, y, 0.8), lambda x, y: x + 0.8 * (y - x), a, b)
    c = rng.uniform(0.5, 2, s3)
    check(lambda x, y, z: gdcore.addcmul(x, y, z, value=-0.5), lambda x, y, z: x - 0.5 * y * z, a, b, c)
    check(lambda x, y, z: gdcore.addcdiv(x, y, z, value=2), lambda x, y, z: x + 2 * y / z, a, b, c)


def test_lerp_weight_one_is_exact():
    a, b = gdcore.tensor([0.1, 1e8]), gdcore.tensor([0.3, 3.0])
    assert gdcore.lerp(a, b, 1.0).tolist() == b.tolist()
    assert a.lerp(b, gdcore.tensor([1.0, 0.0])).tolist() == [b[0].item(), a[1].item()]


@pytest.mark.parametrize("beta, alpha", [(1, 1), (0.5, 2.0), (0, 1)])
def test_addmm_family(beta, alpha):
    rng = np.random.default_rng(1)
    inp, m1, m2 = rng.normal(size=(3,)), rng.normal(size=(2, 4)), rng.normal(size=(4, 3))
    check(lambda i, x, y: gdcore.addmm(i, x, y, beta=beta, alpha=alpha), lambda i, x, y: beta * i + alpha * x @ y,
          inp, m1, m2)
    v, vec = rng.normal(size=(2,)), rng.normal(size=(4,))
    check(lambda i, x, y: i.addmv(x, y, beta=beta, alpha=alpha), lambda i, x, y: beta * i + alpha * x @ y, v, m1, vec)
    b0, b1, b2 = rng.normal(size=(1, 2, 3)), rng.normal(size=(5, 2, 4)), rng.normal(size=(5, 4, 3))
    check(lambda i, x, y: gdcore.baddbmm(i, x, y, beta=beta, alpha=alpha), lambda i, x, y: beta * i + alpha * x @ y,
          b0, b1, b2)


def test_addmm_beta_zero_ignores_nan():
    out = gdcore.addmm(gdcore.full((2, 2), math.nan), gdcore.eye(2), gdcore.ones(2, 2), beta=0)
    assert out.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_inplace_optimizer_style_updates():
    m, v, g = gdcore.zeros(3), gdcore.zeros(3), gdcore.tensor([1.0, -2.0, 3.0])
    m.lerp_(g, 0.1)
    v.mul_(0.9).addcmul_(g, g, value=0.1)
    p = gdcore.ones(3)
    p.addcdiv_(m, v.sqrt() + 1e-8, value=-0.01)
    gn, mn, vn = g.numpy(), 0.1 * g.numpy(), 0.1 * g.numpy() ** 2
    np.testing.assert_allclose(m.numpy(), mn, rtol=1e-6)
    np.testing.assert_allclose(v.numpy(), vn, rtol=1e-6)
    np.testing.assert_allclose(p.numpy(), 1 - 0.01 * mn / (np.sqrt(vn) + 1e-8), rtol=1e-6)
    a = gdcore.zeros(2, 2)
    assert a.addmm_(gdcore.eye(2), gdcore.ones(2, 2), alpha=3) is a and a.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    leaf_p = gdcore.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        leaf_p.lerp_(gdcore.zeros(2), 0.5)


def test_compiled_step_replays_the_new_ops():
    """gdcore.compile records remainder, floor_divide, asin, atan2, hypot, exp2 (capture_forwards.cpp) and
    searchsorted: replays with new values give the eager results."""
    w = gdcore.tensor([0.3, -0.2, 0.1], dtype=gdcore.float64, requires_grad=True)
    edges = gdcore.tensor([-1.0, 0.0, 1.0], dtype=gdcore.float64)

    def step(x):
        w.grad = None
        y = gdcore.asin(x * 0.5) + gdcore.atan2(x, w + 2) + gdcore.hypot(x, w) + gdcore.exp2(w) + (x * w) % 0.7
        loss = (y * (x // 0.5)).sum() + gdcore.searchsorted(edges, x).sum()
        loss.backward()
        return loss

    compiled = gdcore.compile(step)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = gdcore.tensor(rng.uniform(-1.5, 1.5, 3), dtype=gdcore.float64)
        got = compiled(x).item()
        got_grad = w.grad.numpy().copy()
        expected = step(x).item()
        assert got == pytest.approx(expected, rel=1e-12)
        np.testing.assert_allclose(got_grad, w.grad.numpy(), rtol=1e-12)
