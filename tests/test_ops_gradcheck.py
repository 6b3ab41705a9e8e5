"""Every differentiable op against finite differences (gdcore.autograd.gradcheck, float64)
and its forward values against numpy, over random shapes drawn by hypothesis, including
numpy broadcasting. Inputs are kept inside each op's domain and away from its kinks
(abs/relu at 0, clamp at its bounds, ties of max/min), where a derivative does not exist.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gdcore
from gdcore.autograd import gradcheck

SETTINGS = settings(max_examples=15, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
pair_shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=4)


def leaf(a):
    """A float64 leaf tensor holding a copy of the numpy array `a`."""
    return gdcore.tensor(np.asarray(a, dtype=np.float64), dtype=gdcore.float64, requires_grad=True)


def uniform_away(rng, shape, low, high, kinks=(), gap=0.1):
    """Uniform values in [low, high) at least `gap` away from every kink."""
    x = rng.uniform(low, high, size=shape)
    for _ in range(100):
        bad = np.zeros(np.shape(x), dtype=bool)
        for k in kinks:
            bad |= np.abs(x - k) < gap
        if not bad.any():
            return x
        x = np.where(bad, rng.uniform(low, high, size=shape), x)
    raise AssertionError("could not draw values away from the kinks")


def check(f, np_f, *arrays, rtol=1e-10, atol=1e-12):
    """gradcheck of f over float64 leaves made from `arrays`, and f's forward vs np_f."""
    xs = [leaf(a) for a in arrays]
    out = f(*xs)
    expected = np.asarray(np_f(*[np.asarray(a, dtype=np.float64) for a in arrays]))
    assert tuple(out.shape) == expected.shape
    assert out.dtype == gdcore.float64
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=rtol, atol=atol)
    assert gradcheck(f, xs)


# ---- unary ops ------------------------------------------------------------------------

def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# name -> (gdcore function, numpy reference, (low, high), kinks)
UNARY = {
    "neg": (lambda x: -x, np.negative, (-2, 2), ()),
    "abs": (gdcore.abs, np.abs, (-2, 2), (0.0,)),
    "exp": (gdcore.exp, np.exp, (-2, 2), ()),
    "log": (gdcore.log, np.log, (0.3, 3), ()),
    "sqrt": (gdcore.sqrt, np.sqrt, (0.3, 3), ()),
    "sin": (gdcore.sin, np.sin, (-3, 3), ()),
    "cos": (gdcore.cos, np.cos, (-3, 3), ()),
    "tan": (gdcore.tan, np.tan, (-1.2, 1.2), ()),
    "tanh": (gdcore.tanh, np.tanh, (-2, 2), ()),
    "sinh": (gdcore.sinh, np.sinh, (-2, 2), ()),
    "cosh": (gdcore.cosh, np.cosh, (-2, 2), ()),
    "sigmoid": (gdcore.sigmoid, _sigmoid, (-3, 3), ()),
    "relu": (gdcore.relu, lambda x: np.maximum(x, 0.0), (-2, 2), (0.0,)),
    "clamp": (lambda x: gdcore.clamp(x, min=-0.5, max=0.7), lambda x: np.clip(x, -0.5, 0.7), (-2, 2), (-0.5, 0.7)),
    "clamp_min": (lambda x: x.clamp(min=0.2), lambda x: np.maximum(x, 0.2), (-2, 2), (0.2,)),
    "clamp_max": (lambda x: x.clamp(max=-0.3), lambda x: np.minimum(x, -0.3), (-2, 2), (-0.3,)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_unary(name, shape, seed):
    fn, np_fn, (low, high), kinks = UNARY[name]
    x = uniform_away(np.random.default_rng(seed), shape, low, high, kinks)
    check(fn, np_fn, x)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "tanh", "sigmoid", "relu", "abs"])
def test_unary_method_matches_function(name):
    x = leaf([0.5, 1.5, 2.5])
    assert np.array_equal(getattr(x, name)().detach().numpy(), getattr(gdcore, name)(x).detach().numpy())


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1.5, 1, 0, 2.7])
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_pow_scalar_exponent(exponent, shape, seed):
    x = np.random.default_rng(seed).uniform(0.4, 2.0, size=shape)
    check(lambda t: t ** exponent, lambda a: a ** exponent, x)


@pytest.mark.parametrize("exponent", [2, 3])
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_integer_pow_of_negative_base(exponent, shape, seed):
    x = np.random.default_rng(seed).uniform(-2.0, -0.3, size=shape)
    check(lambda t: gdcore.pow(t, exponent), lambda a: a ** exponent, x)


@SETTINGS
@given(shape=shapes, seed=seeds, base=st.sampled_from([2.0, 0.5, 3]))
def test_number_to_the_tensor(shape, seed, base):
    x = np.random.default_rng(seed).uniform(-2.0, 2.0, size=shape)
    check(lambda t: base ** t, lambda a: np.float64(base) ** a, x)
    check(lambda t: gdcore.pow(base, t), lambda a: np.float64(base) ** a, x)  # torch.pow(2, x)


def test_pow_of_two_numbers_raises_type_error():
    with pytest.raises(TypeError, match="Tensor exponent"):
        gdcore.pow(2, 3)


# ---- binary ops with broadcasting -----------------------------------------------------

def _draw_pair(rng, shapes, low_a, high_a, low_b, high_b):
    a_shape, b_shape = shapes.input_shapes
    return rng.uniform(low_a, high_a, size=a_shape), rng.uniform(low_b, high_b, size=b_shape)


def _away_from_zero(rng, shape):
    return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "add_fn": (gdcore.add, np.add),
    "sub_fn": (gdcore.sub, np.subtract),
    "mul_fn": (gdcore.mul, np.multiply),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(shapes=pair_shapes, seed=seeds)
def test_binary_broadcasting(name, shapes, seed):
    fn, np_fn = BINARY[name]
    a, b = _draw_pair(np.random.default_rng(seed), shapes, -2, 2, -2, 2)
    check(fn, np_fn, a, b)


@SETTINGS
@given(shapes=pair_shapes, seed=seeds)
def test_div_broadcasting(shapes, seed):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-2, 2, size=shapes.input_shapes[0])
    b = _away_from_zero(rng, shapes.input_shapes[1])
    check(lambda x, y: x / y, np.divide, a, b)
    check(gdcore.div, np.divide, a, b)


@SETTINGS
@given(shapes=pair_shapes, seed=seeds)
def test_pow_tensor_exponent_broadcasting(shapes, seed):
    a, b = _draw_pair(np.random.default_rng(seed), shapes, 0.4, 2.0, -2.0, 2.0)
    check(lambda x, y: x ** y, np.power, a, b)
    check(gdcore.pow, np.power, a, b)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@SETTINGS
@given(shapes=pair_shapes, seed=seeds)
def test_maximum_minimum_broadcasting(name, shapes, seed):
    # a sits near integers and b near half-integers: never closer than 0.3, so never tied.
    rng = np.random.default_rng(seed)
    a_shape, b_shape = shapes.input_shapes
    a = rng.integers(-3, 3, size=a_shape) + rng.uniform(-0.1, 0.1, size=a_shape)
    b = rng.integers(-3, 3, size=b_shape) + 0.5 + rng.uniform(-0.1, 0.1, size=b_shape)
    check(getattr(gdcore, name), getattr(np, name), a, b)


SCALAR_SIDES = {
    "t+c": (lambda t: t + 1.5, lambda a: a + 1.5),
    "c+t": (lambda t: 1.5 + t, lambda a: 1.5 + a),
    "t-c": (lambda t: t - 2, lambda a: a - 2),
    "c-t": (lambda t: 2 - t, lambda a: 2 - a),
    "t*c": (lambda t: t * -3.0, lambda a: a * -3.0),
    "c*t": (lambda t: -3.0 * t, lambda a: -3.0 * a),
    "t/c": (lambda t: t / 4.0, lambda a: a / 4.0),
    "c/t": (lambda t: 4.0 / t, lambda a: 4.0 / a),
}


@pytest.mark.parametrize("name", sorted(SCALAR_SIDES))
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_python_number_on_either_side(name, shape, seed):
    fn, np_fn = SCALAR_SIDES[name]
    check(fn, np_fn, _away_from_zero(np.random.default_rng(seed), shape))


# ---- reductions -----------------------------------------------------------------------

@st.composite
def reduction_cases(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dims = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True))
    negative = draw(st.booleans())  # also spell dims from the end
    dims = [d - len(shape) if negative else d for d in dims]
    return shape, dims, draw(st.booleans()), draw(seeds)


def _distinct_values(rng, shape):
    """Values that are pairwise at least 0.5 apart, so that max/min have no ties."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.5 + rng.uniform(-0.1, 0.1, size=n) - n / 4).reshape(shape)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
@SETTINGS
@given(case=reduction_cases())
def test_reductions_over_dims(name, case):
    shape, dims, keepdim, seed = case
    x = _distinct_values(np.random.default_rng(seed), shape)
    np_fn = {"sum": np.sum, "mean": np.mean, "amax": np.amax, "amin": np.amin}[name]
    dim = tuple(dims)
    check(lambda t: getattr(t, name)(dim=dim, keepdim=keepdim),
          lambda a: np_fn(a, axis=dim, keepdims=keepdim), x)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "max", "min"])
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_reductions_over_all(name, shape, seed):
    x = _distinct_values(np.random.default_rng(seed), shape)
    np_fn = {"sum": np.sum, "mean": np.mean, "amax": np.amax, "amin": np.amin, "max": np.max, "min": np.min}[name]
    check(lambda t: getattr(gdcore, name)(t) if name in ("sum", "mean", "max", "min") else getattr(t, name)(),
          np_fn, x)


@pytest.mark.parametrize("name", ["max", "min"])
@SETTINGS
@given(case=reduction_cases())
def test_max_min_with_dim_values(name, case):
    shape, dims, keepdim, seed = case
    x = _distinct_values(np.random.default_rng(seed), shape)
    d = dims[0]
    np_fn = np.max if name == "max" else np.min
    check(lambda t: getattr(t, name)(d, keepdim=keepdim).values,
          lambda a: np_fn(a, axis=d, keepdims=keepdim), x)
    indices = getattr(leaf(x), name)(d, keepdim=keepdim).indices
    np_arg = np.argmax if name == "max" else np.argmin
    expected = np_arg(x, axis=d)
    if keepdim:
        expected = np.expand_dims(expected, d)
    assert indices.dtype == gdcore.int64
    np.testing.assert_array_equal(indices.numpy(), expected)


def test_amax_gradient_is_shared_among_ties():
    # The one place a kink is tested on purpose: torch splits the gradient evenly among tied maxima.
    x = leaf([1.0, 3.0, 3.0, 2.0])
    x.amax().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 0.5, 0.0])


# ---- matrix products ------------------------------------------------------------------

MATMUL_SHAPES = [
    ((3,), (3,)),              # dot product -> scalar
    ((2, 3), (3, 4)),          # matrix @ matrix
    ((3,), (3, 4)),            # vector @ matrix
    ((2, 3), (3,)),            # matrix @ vector
    ((5, 2, 3), (5, 3, 4)),    # batched
    ((5, 2, 3), (1, 3, 4)),    # batched, broadcast batch dim
    ((2, 1, 2, 3), (4, 3, 2)),  # batch dims broadcast against each other
    ((5, 2, 3), (3, 4)),       # N-d @ 2-d
    ((2, 5, 2, 3), (3,)),      # N-d @ vector
    ((3,), (2, 3, 4)),         # vector @ batch
    ((2, 3), (5, 3, 4)),       # 2-d @ batch
    ((1, 3), (3, 1)),
]


@pytest.mark.parametrize("a_shape,b_shape", MATMUL_SHAPES, ids=str)
def test_matmul_cases(a_shape, b_shape):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    check(lambda x, y: x @ y, np.matmul, a, b)
    check(gdcore.matmul, np.matmul, a, b)


@SETTINGS
@given(batch=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, min_side=1, max_side=3),
       sizes=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)), seed=seeds)
def test_matmul_batched_broadcasting(batch, sizes, seed):
    n, k, m = sizes
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(batch.input_shapes[0] + (n, k))
    b = rng.standard_normal(batch.input_shapes[1] + (k, m))
    check(lambda x, y: x.matmul(y), np.matmul, a, b)


@SETTINGS
@given(sizes=st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5)), batch=st.integers(1, 3), seed=seeds)
def test_mm_and_bmm(sizes, batch, seed):
    n, k, m = sizes
    rng = np.random.default_rng(seed)
    check(gdcore.mm, np.matmul, rng.standard_normal((n, k)), rng.standard_normal((k, m)))
    check(lambda x, y: x.bmm(y), np.matmul, rng.standard_normal((batch, n, k)), rng.standard_normal((batch, k, m)))


def test_matmul_with_transposed_operands():
    # Non-contiguous inputs exercise the strided paths of the GEMM kernel.
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((5, 4))
    check(lambda x, y: x.t() @ y.T, lambda x, y: x.T @ y.T, a, b)
    c = rng.standard_normal((2, 4, 3))
    check(lambda x, y: x.transpose(1, 2) @ y, lambda x, y: np.swapaxes(x, 1, 2) @ y, c, rng.standard_normal((4, 2)))


# ---- mse_loss ---------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_mse_loss(reduction, shape, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    np_reduce = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
    check(lambda a, b: gdcore.mse_loss(a, b, reduction=reduction), lambda a, b: np_reduce((a - b) ** 2), x, y)


# ---- shape ops ------------------------------------------------------------------------

SHAPE_OPS = {
    "reshape": (lambda t: t.reshape(2, -1), lambda a: a.reshape(2, -1)),
    "view": (lambda t: t.view(4, 6), lambda a: a.reshape(4, 6)),
    "reshape_fn": (lambda t: gdcore.reshape(t, (6, 4)), lambda a: a.reshape(6, 4)),
    "reshape_noncontiguous": (lambda t: t.transpose(0, 2).reshape(-1), lambda a: a.transpose(2, 1, 0).reshape(-1)),
    "transpose": (lambda t: t.transpose(0, 2), lambda a: np.swapaxes(a, 0, 2)),
    "transpose_neg": (lambda t: gdcore.transpose(t, -1, -2), lambda a: np.swapaxes(a, -1, -2)),
    "permute": (lambda t: t.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
    "permute_fn": (lambda t: gdcore.permute(t, (1, 2, 0)), lambda a: a.transpose(1, 2, 0)),
    "T": (lambda t: t.T, lambda a: a.T),
    "t": (lambda t: t[0].t(), lambda a: a[0].T),
    "expand": (lambda t: t[:, :1, :].expand(5, 2, 3, 4), lambda a: np.broadcast_to(a[:, :1, :], (5, 2, 3, 4))),
    "expand_minus_one": (lambda t: t[:, :1].expand(-1, 3, -1), lambda a: np.broadcast_to(a[:, :1], (2, 3, 4))),
    "unsqueeze": (lambda t: t.unsqueeze(1), lambda a: a[:, None]),
    "unsqueeze_end": (lambda t: gdcore.unsqueeze(t, -1), lambda a: a[..., None]),
    "squeeze_all": (lambda t: t[:, :1, None].squeeze(), lambda a: a[:, :1, None].squeeze()),
    "squeeze_dim": (lambda t: t[:, :1].squeeze(1), lambda a: a[:, :1].squeeze(1)),
    "flatten": (lambda t: t.flatten(), lambda a: a.reshape(-1)),
    "flatten_range": (lambda t: gdcore.flatten(t, 1, 2), lambda a: a.reshape(2, 12)),
    "contiguous": (lambda t: t.transpose(0, 1).contiguous(), lambda a: np.ascontiguousarray(a.transpose(1, 0, 2))),
    "clone": (lambda t: t.clone(), lambda a: a.copy()),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_ops(name):
    fn, np_fn = SHAPE_OPS[name]
    x = np.random.default_rng(3).standard_normal((2, 3, 4))
    check(fn, np_fn, x)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3), seed=seeds, data=st.data())
def test_random_reshape_and_permute(shape, seed, data):
    x = np.random.default_rng(seed).standard_normal(shape)
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    check(lambda t: t.permute(*perm).reshape(-1), lambda a: a.transpose(perm).reshape(-1), x)


# ---- indexing, gathering and joining --------------------------------------------------

def _positive_step(index):
    """basic_indices may draw negative steps, which torch (and gdcore) refuse: flip them."""
    def fix(item):
        if isinstance(item, slice) and item.step is not None and item.step < 0:
            return slice(item.start, item.stop, -item.step)
        return item
    return tuple(fix(i) for i in index) if isinstance(index, tuple) else fix(index)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), seed=seeds, data=st.data())
def test_basic_indexing(shape, seed, data):
    index = _positive_step(data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True)))
    x = np.random.default_rng(seed).standard_normal(shape)
    check(lambda t: t[index], lambda a: a[index], x)


INDEX_KEYS = {
    "int": 1,
    "negative_int": -1,
    "slice_step": slice(None, None, 2),
    "slice_start_stop_step": (slice(1, 4, 2), slice(None), slice(0, 5, 3)),
    "ints_and_slices": (0, slice(1, None), 2),
    "none": (None, 1),
    "ellipsis": (Ellipsis, 1),
    "ellipsis_none": (0, Ellipsis, None),
    "index_tensor": "tensor",
    "index_list": [3, 0, 0, 2],
    "index_list_second_dim": (slice(None), [2, 2, 0]),
    "index_tensor_2d": "tensor2d",
}


@pytest.mark.parametrize("name", sorted(INDEX_KEYS))
def test_indexing_keys(name):
    key = INDEX_KEYS[name]
    np_key = key
    if key == "tensor":
        key, np_key = gdcore.tensor([1, 3, 1]), np.array([1, 3, 1])
    elif key == "tensor2d":
        key, np_key = gdcore.tensor([[0, 1], [3, 3]]), np.array([[0, 1], [3, 3]])
    x = np.random.default_rng(5).standard_normal((4, 5, 6))
    check(lambda t: t[key], lambda a: a[np_key], x)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=seeds, data=st.data())
def test_index_select(shape, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = shape[dim]
    idx = data.draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=6))  # repeats accumulate
    x = np.random.default_rng(seed).standard_normal(shape)
    index = gdcore.tensor(idx)
    check(lambda t: t.index_select(dim, index), lambda a: np.take(a, idx, axis=dim), x)
    check(lambda t: gdcore.index_select(t, dim, index), lambda a: np.take(a, idx, axis=dim), x)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), n=st.integers(1, 3), seed=seeds,
       data=st.data())
def test_cat_and_stack(shape, n, seed, data):
    rng = np.random.default_rng(seed)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    arrays = []
    for _ in range(n):
        s = list(shape)
        s[dim] = data.draw(st.integers(1, 3))
        arrays.append(rng.standard_normal(s))
    check(lambda *ts: gdcore.cat(list(ts), dim), lambda *a: np.concatenate(a, axis=dim), *arrays)
    same = [rng.standard_normal(shape) for _ in range(n)]
    sdim = data.draw(st.integers(-len(shape) - 1, len(shape)))
    check(lambda *ts: gdcore.stack(ts, dim=sdim), lambda *a: np.stack(a, axis=sdim), *same)


# ---- dtype conversion -----------------------------------------------------------------

def test_to_float64_passes_gradient_back_in_the_input_dtype():
    x32 = gdcore.tensor([0.5, -1.25, 2.0], requires_grad=True)
    y = (x32.to(gdcore.float64) ** 2).sum()
    assert y.dtype == gdcore.float64
    y.backward()
    assert x32.grad.dtype == gdcore.float32
    np.testing.assert_allclose(x32.grad.numpy(), [1.0, -2.5, 4.0])


def test_to_float64_gradcheck():
    x = np.random.default_rng(7).standard_normal((3, 2))
    check(lambda t: t.to(gdcore.float64) * t.double(), lambda a: a * a, x)
    check(lambda t: t.to(gdcore.float32).to(gdcore.float64) * 0 + t, lambda a: a, x)


def test_pow_gradient_limits_at_zero_base_and_exponent():
    # As torch: d(a^b)/db = 0 where a == 0 and b >= 0; d(a^b)/da = 0 where b == 0 (no 0 * inf = NaN).
    a = leaf([0.0, 2.0, 0.0, 3.0])
    b = leaf([2.0, 0.0, 0.0, -1.0])
    (a ** b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.0, 0.0, 0.0, -1.0 / 9.0])
    np.testing.assert_allclose(b.grad.numpy(), [0.0, np.log(2.0), 0.0, np.log(3.0) / 3.0])
