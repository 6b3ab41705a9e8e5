"""amax/amin/aminmax, median/nanmedian, quantile/nanquantile, nan_to_num, nansum and nanmean against
numpy (np.quantile with the same method names, a lower-median loop, np.nan_to_num, np.nansum,
np.nanmean), with NaN rows; gradients against finite differences in float64 (distinct values, so
the order statistics have a derivative)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gdcore
from gdcore.autograd import gradcheck

SETTINGS = settings(max_examples=15, deadline=None)
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6)
seeds = st.integers(0, 2**32 - 1)


def leaf(a):
    return gdcore.tensor(np.asarray(a, dtype=np.float64), dtype=gdcore.float64, requires_grad=True)


def test_amax_amin_aminmax():
    a = np.random.default_rng(0).standard_normal((3, 4, 5))
    x = gdcore.tensor(a)
    np.testing.assert_array_equal(gdcore.amax(x, (0, 2)).numpy(), a.max(axis=(0, 2)))
    np.testing.assert_array_equal(gdcore.amin(x, 1, keepdim=True).numpy(), a.min(axis=1, keepdims=True))
    assert gdcore.amax(x).item() == a.max()
    r = gdcore.aminmax(x, dim=-1)
    assert type(r).__name__ == "aminmax" and r._fields == ("min", "max")
    np.testing.assert_array_equal(r.min.numpy(), a.min(-1))
    np.testing.assert_array_equal(x.aminmax(dim=0, keepdim=True).max.numpy(), a.max(0, keepdims=True))
    lo, hi = gdcore.aminmax(x)
    assert lo.item() == a.min() and hi.item() == a.max() and lo.dim() == 0


def lower_median(row):
    if np.isnan(row).any():
        return math.nan
    return np.sort(row)[(len(row) - 1) // 2]


@given(shape=shapes, seed=seeds, data=st.data())
@SETTINGS
def test_median_matches_a_loop(shape, seed, data):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 5, size=shape).astype(np.float64)
    if data.draw(st.booleans()):
        a[rng.random(shape) < 0.15] = math.nan
    dim = data.draw(st.integers(0, len(shape) - 1))
    values, indices = gdcore.median(gdcore.tensor(a), dim)
    expected = np.apply_along_axis(lower_median, dim, a)
    np.testing.assert_array_equal(values.numpy(), expected)
    # the index points at an element holding the median (the first NaN of a NaN row)
    np.testing.assert_array_equal(np.take_along_axis(a, np.expand_dims(indices.numpy(), dim), dim).squeeze(dim),
                                  expected)
    assert math.isnan(gdcore.median(gdcore.tensor(a)).item()) == np.isnan(a).any()
    if not np.isnan(a).any():
        assert gdcore.tensor(a).median().item() == lower_median(a.ravel())
    nm = gdcore.nanmedian(gdcore.tensor(a), dim).values.numpy()
    expected_nan = np.apply_along_axis(lambda r: lower_median(r[~np.isnan(r)]) if (~np.isnan(r)).any()
                                       else math.nan, dim, a)
    np.testing.assert_array_equal(nm, expected_nan)


def test_median_examples_from_torch_docs():
    x = gdcore.tensor([[1.0, math.nan, 2.0], [3.0, 1.0, 2.0]])
    r = x.median(1)
    assert type(r).__name__ == "median"
    assert math.isnan(r.values[0].item()) and r.values[1].item() == 2.0 and r.indices.tolist() == [1, 2]
    assert gdcore.tensor([1.0, 3.0, 2.0, 4.0]).median().item() == 2.0  # the lower of 2 and 3
    assert gdcore.tensor([4, 1, 3]).median().item() == 3
    assert math.isnan(gdcore.tensor([]).median().item())
    assert x.median(1, keepdim=True).values.shape == (2, 1)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_matches_numpy(interpolation):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 7))
    q = np.array([0.0, 0.1, 0.25, 0.5, 0.9, 1.0])
    x = gdcore.tensor(a, dtype=gdcore.float64)
    qt = gdcore.tensor(q, dtype=gdcore.float64)
    got = gdcore.quantile(x, qt, dim=1, interpolation=interpolation)
    np.testing.assert_allclose(got.numpy(), np.quantile(a, q, axis=1, method=interpolation), rtol=1e-12)
    got = x.quantile(0.3, dim=0, keepdim=True, interpolation=interpolation)
    np.testing.assert_allclose(got.numpy(), np.quantile(a, 0.3, axis=0, keepdims=True, method=interpolation))
    np.testing.assert_allclose(x.quantile(qt, interpolation=interpolation).numpy(),
                               np.quantile(a, q, method=interpolation), rtol=1e-12)
    assert x.quantile(qt, dim=1, keepdim=True).shape == (6, 4, 1)
    assert x.quantile(0.5, keepdim=True).shape == (1, 1)


def test_quantile_nan_and_nanquantile():
    a = np.array([[1.0, math.nan, 3.0, 4.0], [math.nan] * 4, [2.0, 1.0, 0.0, 5.0]])
    x = gdcore.tensor(a)
    np.testing.assert_allclose(gdcore.nanquantile(x, 0.5, dim=1).numpy(), [3.0, math.nan, 1.5])
    got = x.quantile(0.5, dim=1).numpy()
    assert np.isnan(got[:2]).all() and got[2] == 1.5
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.testing.assert_allclose(x.nanquantile(0.25, dim=1).numpy(), np.nanquantile(a, 0.25, axis=1))


@given(shape=shapes, seed=seeds, data=st.data())
@SETTINGS
def test_order_statistics_gradients(shape, seed, data):
    a = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) / 3.0  # distinct values
    dim = data.draw(st.integers(0, len(shape) - 1))
    q = data.draw(st.floats(0.0, 1.0))
    assert gradcheck(lambda x: (gdcore.quantile(x, q, dim) ** 2).sum(), [leaf(a)])
    assert gradcheck(lambda x: (x.median(dim).values ** 3).sum() + x.median(), [leaf(a)])
    assert gradcheck(lambda x: gdcore.aminmax(x, dim=dim).max.sum() - gdcore.amin(x) * 2, [leaf(a)])


def test_nan_to_num_nansum_nanmean():
    a = np.array([[math.nan, math.inf, -math.inf, 1.5], [2.0, math.nan, 3.0, -1.0]])
    for dtype, np_dtype in ((gdcore.float32, np.float32), (gdcore.float64, np.float64)):
        x = gdcore.tensor(a, dtype=dtype)
        np.testing.assert_array_equal(gdcore.nan_to_num(x).numpy(), np.nan_to_num(a.astype(np_dtype)))
        np.testing.assert_array_equal(x.nan_to_num(nan=-1.0, posinf=9.0, neginf=-9.0).numpy(),
                                      np.nan_to_num(a, nan=-1.0, posinf=9.0, neginf=-9.0).astype(np_dtype))
    b = np.where(np.isinf(a), 0.0, a)
    y = gdcore.tensor(b, dtype=gdcore.float64)
    np.testing.assert_allclose(gdcore.nansum(y).item(), np.nansum(b))
    np.testing.assert_allclose(y.nansum(1).numpy(), np.nansum(b, 1))
    np.testing.assert_allclose(gdcore.nanmean(y, 0, keepdim=True).numpy(), np.nanmean(b, 0, keepdims=True))
    np.testing.assert_allclose(y.nanmean(axis=1).numpy(), np.nanmean(b, axis=1))
    assert gdcore.nansum(gdcore.tensor([1, 2])).item() == 3
    z = gdcore.tensor([math.nan, 1.0])
    assert z.nan_to_num_() is z and z.tolist() == [0.0, 1.0]
    # gradients: 1 where the value is kept, 0 where it was NaN
    w = gdcore.tensor(b, dtype=gdcore.float64, requires_grad=True)
    (gdcore.nansum(w) + gdcore.nan_to_num(w).sum() + gdcore.nanmean(w)).backward()
    keep = ~np.isnan(b)
    np.testing.assert_allclose(w.grad.numpy(), np.where(keep, 2.0 + 1.0 / keep.sum(), 0.0))


def mode_loop(row):
    """The most frequent value (the smallest of a tie) and the index of its last occurrence."""
    values, counts = np.unique(row, return_counts=True)
    v = values[np.argmax(counts)]
    return v, int(np.nonzero(row == v)[0][-1])


@given(shape=shapes, seed=seeds, keepdim=st.booleans(), data=st.data())
@SETTINGS
def test_mode_matches_a_loop(shape, seed, keepdim, data):
    a = np.random.default_rng(seed).integers(0, 4, size=shape)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    values, indices = gdcore.mode(gdcore.tensor(a), dim, keepdim)
    moved = np.moveaxis(a, dim, -1)
    expected = [mode_loop(r) for r in moved.reshape(-1, moved.shape[-1])]
    ev = np.array([e[0] for e in expected]).reshape(moved.shape[:-1])
    ei = np.array([e[1] for e in expected]).reshape(moved.shape[:-1])
    if keepdim:
        ev, ei = np.expand_dims(ev, dim), np.expand_dims(ei, dim)
    np.testing.assert_array_equal(values.numpy(), ev)
    np.testing.assert_array_equal(indices.numpy(), ei)


def test_mode_named_tuple_and_gradient():
    r = gdcore.tensor([[1, 2, 2, 3, 3], [1, 1, 0, 0, 5]]).mode(1)
    assert type(r).__name__ == "mode" and r.values.tolist() == [2, 0] and r.indices.tolist() == [2, 3]
    x = gdcore.tensor([[1.0, 2.0, 2.0], [3.0, 3.0, 1.0]], dtype=gdcore.float64, requires_grad=True)
    (x.mode(1).values * gdcore.tensor([1.0, 10.0], dtype=gdcore.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 1], [0, 10, 0]])  # to the element it was read from
