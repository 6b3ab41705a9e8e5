"""cumprod, cummax, cummin and diff against numpy (cumprod, maximum.accumulate, a plain loop for the
indices, diff), with zeros and NaN; gradients against finite differences in float64, including
cumprod's at zeros, where exp(cumsum(log x)) would fail."""
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gdcore
from gdcore.autograd import gradcheck

SETTINGS = settings(max_examples=15, deadline=None)
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=9)
seeds = st.integers(0, 2**32 - 1)


def leaf(a):
    return gdcore.tensor(np.asarray(a, dtype=np.float64), dtype=gdcore.float64, requires_grad=True)


def cum_extreme_loop(a, is_max):
    """Running extreme of a 1-d array and its indices: the latest of equal values, NaN sticks (torch's rule)."""
    vals, idx = np.empty_like(a), np.empty(len(a), dtype=np.int64)
    best, at = a[0], 0
    for i, v in enumerate(a):
        if i == 0 or math.isnan(v) or (not math.isnan(best) and (v >= best if is_max else v <= best)):
            best, at = v, i
        vals[i], idx[i] = best, at
    return vals, idx


@given(shape=shapes, seed=seeds, data=st.data())
@SETTINGS
def test_cumprod_matches_numpy_and_gradchecks(shape, seed, data):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1.5, 1.5, size=shape)
    a[rng.random(shape) < 0.2] = 0.0  # zeros: the gradient must still be exact
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    got = gdcore.cumprod(gdcore.tensor(a), dim)
    np.testing.assert_allclose(got.numpy(), np.cumprod(a, axis=dim), rtol=1e-12, atol=1e-14)
    assert gradcheck(lambda x: (x.cumprod(dim) * (1.0 + x)).sum(), [leaf(a)])


def test_cumprod_dtypes():
    assert gdcore.cumprod(gdcore.tensor([1, 2, 3]), 0).tolist() == [1, 2, 6]
    b = gdcore.cumprod(gdcore.tensor([True, True, False]), 0)
    assert b.dtype == gdcore.int64 and b.tolist() == [1, 1, 0]
    assert gdcore.cumprod(gdcore.tensor([1, 2]), 0, dtype=gdcore.float64).dtype == gdcore.float64
    x = gdcore.tensor([1.0, 2.0, 3.0])
    assert x.cumprod_(0) is x and x.tolist() == [1.0, 2.0, 6.0]


@given(shape=shapes, seed=seeds, data=st.data())
@SETTINGS
def test_cummax_cummin_match_a_loop(shape, seed, data):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, size=shape).astype(np.float64)  # many ties
    a[rng.random(shape) < 0.1] = math.nan
    dim = data.draw(st.integers(0, len(shape) - 1))
    for is_max, fn in ((True, gdcore.cummax), (False, gdcore.cummin)):
        values, indices = fn(gdcore.tensor(a), dim)
        moved = np.moveaxis(a, dim, -1).reshape(-1, shape[dim])
        ev, ei = zip(*(cum_extreme_loop(r, is_max) for r in moved))
        ev = np.moveaxis(np.array(ev).reshape(np.moveaxis(a, dim, -1).shape), -1, dim)
        ei = np.moveaxis(np.array(ei).reshape(np.moveaxis(a, dim, -1).shape), -1, dim)
        np.testing.assert_array_equal(values.numpy(), ev)
        np.testing.assert_array_equal(indices.numpy(), ei)
        assert indices.dtype == gdcore.int64


def test_cummax_named_tuple_and_gradient():
    r = gdcore.tensor([1.0, 3.0, 2.0, 5.0]).cummax(0)
    assert type(r).__name__ == "cummax"
    assert r.values.tolist() == [1.0, 3.0, 3.0, 5.0] and r.indices.tolist() == [0, 1, 1, 3]
    a = np.random.default_rng(3).standard_normal((3, 6))  # distinct values: no ties
    assert gradcheck(lambda x: (gdcore.cummax(x, 1).values ** 2).sum() + gdcore.cummin(x, 0)[0].sum(), [leaf(a)])


@given(shape=shapes, seed=seeds, n=st.integers(0, 3), data=st.data())
@SETTINGS
def test_diff_matches_numpy(shape, seed, n, data):
    a = np.random.default_rng(seed).standard_normal(shape)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    pre_shape = list(shape)
    pre_shape[dim] = 2
    pre = np.ones(pre_shape)
    got = gdcore.diff(gdcore.tensor(a), n, dim, prepend=gdcore.tensor(pre), append=gdcore.tensor(pre * 2))
    np.testing.assert_allclose(got.numpy(), np.diff(a, n, axis=dim, prepend=pre, append=pre * 2), atol=1e-12)
    np.testing.assert_allclose(gdcore.tensor(a).diff(n, dim).numpy(), np.diff(a, n, axis=dim), atol=1e-12)
    w = gdcore.tensor(np.random.default_rng(seed + 1).standard_normal(np.diff(a, n, axis=dim).shape),
                      dtype=gdcore.float64)
    assert gradcheck(lambda x: (x.diff(n, dim) * w).sum(), [leaf(a)])


def test_diff_bool_and_int():
    assert gdcore.diff(gdcore.tensor([True, False, False])).tolist() == [True, False]
    assert gdcore.diff(gdcore.tensor([1, 3, 6]), prepend=gdcore.tensor([0])).tolist() == [1, 2, 3]


def test_cumprod_second_order():
    # The scan is products only, so its gradient is differentiable again (create_graph).
    a = np.array([[0.5, 0.0, -1.5, 2.0], [1.2, -0.7, 0.3, 0.0]])
    w = gdcore.tensor(np.random.default_rng(0).standard_normal(a.shape), dtype=gdcore.float64)

    def first_grad_dot_w(x):
        with gdcore.enable_grad():  # gradcheck's finite differences run under no_grad on plain tensors
            x = x if x.requires_grad else x.detach().requires_grad_(True)
            (gx,) = gdcore.autograd.grad((x.cumprod(1) ** 2).sum(), x, create_graph=True)
            return (gx * w).sum()
    assert gradcheck(first_grad_dot_w, [leaf(a)])
