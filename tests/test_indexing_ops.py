"""gather, scatter, scatter_add, index_add, take_along_dim, index_select, sort, argsort, topk,
unique and max/min(dim): values against plain loops over np.ndindex or numpy's own functions,
gradients against finite differences (float64, random shapes), and the errors torch raises."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gdcore
from gdcore.autograd import gradcheck

SETTINGS = settings(max_examples=30, deadline=None)


def f64(a, grad=False):
    return gdcore.tensor(np.asarray(a, dtype=np.float64), dtype=gdcore.float64, requires_grad=grad)


@st.composite
def gather_case(draw):
    """(input shape, dim, index array): index as large as the input or smaller in every dim but dim."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    d = dim % len(shape)
    ishape = tuple(draw(st.integers(0, 5)) if k == d else draw(st.integers(0, s)) for k, s in enumerate(shape))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return shape, dim, rng.integers(0, shape[d], ishape)


def loop_gather(a, dim, idx):
    out = np.empty(idx.shape, a.dtype)
    for p in np.ndindex(*idx.shape):
        q = list(p)
        q[dim] = idx[p]
        out[p] = a[tuple(q)]
    return out


def loop_scatter(a, dim, idx, src, op):
    out = a.copy()
    for p in np.ndindex(*idx.shape):
        q = list(p)
        q[dim] = idx[p]
        q = tuple(q)
        out[q] = op(out[q], src[p])
    return out


@SETTINGS
@given(case=gather_case())
def test_gather_matches_a_loop_and_its_gradient_scatters_back(case):
    shape, dim, idx = case
    a = np.random.default_rng(0).standard_normal(shape)
    got = gdcore.gather(f64(a), dim, gdcore.tensor(idx))
    np.testing.assert_array_equal(got.numpy(), loop_gather(a, dim % len(shape), idx))
    x = f64(a, grad=True)
    assert gradcheck(lambda x: x.gather(dim, gdcore.tensor(idx)), [x])


@SETTINGS
@given(case=gather_case(), value=st.floats(-3, 3))
def test_scatter_family_matches_loops_with_gradients(case, value):
    shape, dim, idx = case
    d = dim % len(shape)
    idx = idx[tuple(slice(0, shape[d]) if k == d else slice(None) for k in range(len(shape)))]
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shape)
    src = rng.standard_normal(tuple(s + 1 for s in idx.shape))  # src may be larger than index
    ti = gdcore.tensor(idx)
    np.testing.assert_allclose(gdcore.scatter_add(f64(a), dim, ti, f64(src)).numpy(),
                               loop_scatter(a, d, idx, src, lambda o, s: o + s), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(f64(a).scatter(dim, ti, f64(src), reduce="multiply").numpy(),
                               loop_scatter(a, d, idx, src, lambda o, s: o * s), rtol=1e-12)
    np.testing.assert_array_equal(f64(a).scatter(dim, ti, value).numpy(),
                                  loop_scatter(a, d, idx, np.full(idx.shape, value), lambda o, s: s))
    x, s = f64(a, grad=True), f64(src, grad=True)
    assert gradcheck(lambda x, s: gdcore.scatter_add(x, dim, ti, s), [x, s])
    assert gradcheck(lambda x: x.scatter(dim, ti, value), [x])
    # scatter with src: duplicate positions are unspecified in torch, so only a permutation index is used
    perm = np.argsort(rng.random(shape), axis=d)
    pi, psrc = gdcore.tensor(perm), rng.standard_normal(tuple(s + 1 for s in shape))
    np.testing.assert_array_equal(f64(a).scatter(dim, pi, f64(psrc)).numpy(),
                                  loop_scatter(a, d, perm, psrc, lambda o, s: s))
    assert gradcheck(lambda x, s: gdcore.scatter(x, dim, pi, s), [x, f64(psrc, grad=True)])


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), data=st.data())
def test_index_add_and_index_select(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    d = dim % len(shape)
    idx = np.array(data.draw(st.lists(st.integers(0, shape[d] - 1), min_size=0, max_size=6)), dtype=np.int64)
    rng = np.random.default_rng(2)
    a = rng.standard_normal(shape)
    sshape = tuple(len(idx) if k == d else s for k, s in enumerate(shape))
    src = rng.standard_normal(sshape)
    expected = a.copy()
    np.add.at(np.moveaxis(expected, d, 0), idx, 2.5 * np.moveaxis(src, d, 0))  # duplicates add up
    got = gdcore.index_add(f64(a), dim, gdcore.tensor(idx), f64(src), alpha=2.5)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-12)
    x, s = f64(a, grad=True), f64(src, grad=True)
    assert gradcheck(lambda x, s: x.index_add(dim, gdcore.tensor(idx), s, alpha=2.5), [x, s])
    np.testing.assert_array_equal(gdcore.index_select(f64(a), dim, gdcore.tensor(idx)).numpy(), np.take(a, idx, axis=d))
    t = f64(a)
    t.index_add_(dim, gdcore.tensor(idx), f64(src), alpha=2.5)
    np.testing.assert_allclose(t.numpy(), expected, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), data=st.data())
def test_take_along_dim_broadcasts_like_numpy(shape, data):
    dim = data.draw(st.integers(0, len(shape) - 1))
    ishape = tuple(data.draw(st.integers(1, 3)) if k == dim else data.draw(st.sampled_from([1, s]))
                   for k, s in enumerate(shape))
    rng = np.random.default_rng(3)
    a = rng.standard_normal(tuple(1 if (s != 1 and ishape[k] == s and k != dim and data.draw(st.booleans())) else s
                                  for k, s in enumerate(shape)))  # both sides may broadcast
    idx = rng.integers(0, a.shape[dim], ishape)
    expected = np.take_along_axis(a, idx, axis=dim) if all(
        i == s or k == dim for k, (i, s) in enumerate(zip(ishape, a.shape))) else None
    got = gdcore.take_along_dim(f64(a), gdcore.tensor(idx), dim=dim)
    bshape = np.broadcast_shapes(tuple(1 if k == dim else s for k, s in enumerate(a.shape)),
                                 tuple(1 if k == dim else s for k, s in enumerate(ishape)))
    ab = np.broadcast_to(a, tuple(a.shape[dim] if k == dim else s for k, s in enumerate(bshape)))
    ib = np.broadcast_to(idx, tuple(ishape[dim] if k == dim else s for k, s in enumerate(bshape)))
    np.testing.assert_array_equal(got.numpy(), np.take_along_axis(ab, ib, axis=dim))
    if expected is not None:
        np.testing.assert_array_equal(got.numpy(), expected)
    flat = rng.integers(0, a.size, (2, 3))
    np.testing.assert_array_equal(gdcore.take_along_dim(f64(a), gdcore.tensor(flat)).numpy(), a.ravel()[flat.ravel()])
    x = f64(a, grad=True)
    assert gradcheck(lambda x: x.take_along_dim(gdcore.tensor(idx), dim), [x])


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), data=st.data(),
       descending=st.booleans())
def test_sort_argsort_topk_match_numpy_stable_order(shape, data, descending):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    a = rng.integers(-2, 3, shape).astype(np.float64)  # many ties: the stable order is checked
    order = np.argsort(-a if descending else a, axis=dim, kind="stable")
    values, indices = gdcore.sort(f64(a), dim=dim, descending=descending, stable=True)
    np.testing.assert_array_equal(indices.numpy(), order)
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(a, order, axis=dim))
    np.testing.assert_array_equal(f64(a).argsort(dim, descending).numpy(), order)
    k = data.draw(st.integers(0, shape[dim]))
    top = gdcore.topk(f64(a), k, dim=dim, largest=descending)
    first_k = np.take(order, np.arange(k), axis=dim)
    np.testing.assert_array_equal(top.indices.numpy(), first_k)
    np.testing.assert_array_equal(top.values.numpy(), np.take_along_axis(a, first_k, axis=dim))
    x = f64(rng.standard_normal(shape), grad=True)  # distinct values: the sort is locally a permutation
    assert gradcheck(lambda x: x.sort(dim, descending)[0], [x])
    assert gradcheck(lambda x: gdcore.topk(x, k, dim, largest=descending).values, [x])


def test_sort_puts_nan_last_and_sorts_int64():
    v, i = gdcore.tensor([3.0, float("nan"), -1.0, 2.0]).sort()
    assert i.tolist() == [2, 3, 0, 1] and np.isnan(v.numpy()[3])
    assert gdcore.tensor([3.0, float("nan"), -1.0]).sort(descending=True).indices.tolist() == [1, 0, 2]
    assert gdcore.tensor([5, -3, 2**40]).sort().values.tolist() == [-3, 5, 2**40]
    assert gdcore.tensor([[3, 1, 2]]).topk(2).values.tolist() == [[3, 2]]


@SETTINGS
@given(a=hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
                    elements=st.integers(-2, 2)), data=st.data())
def test_unique_matches_numpy(a, data):
    values, inverse, counts = gdcore.unique(gdcore.tensor(a), return_inverse=True, return_counts=True)
    ev, ei, ec = np.unique(a, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(values.numpy(), ev)
    np.testing.assert_array_equal(inverse.numpy(), ei.reshape(a.shape))
    np.testing.assert_array_equal(counts.numpy(), ec)
    assert gdcore.tensor(a.astype(np.float32)).unique().tolist() == ev.astype(np.float32).tolist()
    dim = data.draw(st.integers(0, a.ndim - 1))
    values, inverse, counts = gdcore.unique(gdcore.tensor(a), dim=dim, return_inverse=True, return_counts=True)
    ev, ei, ec = np.unique(a, axis=dim, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(values.numpy(), ev)
    np.testing.assert_array_equal(inverse.numpy(), ei.ravel())
    np.testing.assert_array_equal(counts.numpy(), ec)


def test_max_min_with_dim_give_named_values_and_indices():
    a = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    r = gdcore.tensor(a).max(dim=1)
    assert r.values.tolist() == [5.0, 7.0] and r.indices.tolist() == [1, 0]
    values, indices = gdcore.min(gdcore.tensor(a), 0, keepdim=True)
    assert values.tolist() == [[1.0, 0.0, 2.0]] and indices.tolist() == [[0, 1, 0]]


@pytest.mark.parametrize("call, error, words", [
    (lambda: gdcore.gather(gdcore.zeros(2, 3), 1, gdcore.tensor([[0.0]])), RuntimeError,
     "gather: tensors used as indices must be int64 (long) or int32 (int), got float32"),
    (lambda: gdcore.gather(gdcore.zeros(2, 3), 1, gdcore.tensor([[0, 5]])), RuntimeError,
     "index 5 is out of bounds for dimension 1 with size 3"),
    (lambda: gdcore.gather(gdcore.zeros(2, 3), 1, gdcore.tensor([[0, -1]])), RuntimeError,
     "index -1 is out of bounds for dimension 1 with size 3"),
    (lambda: gdcore.gather(gdcore.zeros(2, 3), 1, gdcore.tensor([0, 1])), RuntimeError,
     "index tensor must have the same number of dimensions as input tensor"),
    (lambda: gdcore.gather(gdcore.zeros(2, 3), 1, gdcore.zeros(3, 1, dtype=gdcore.int64)), RuntimeError,
     "size does not match at dimension 0"),
    (lambda: gdcore.zeros(3).scatter(0, gdcore.tensor([3]), 1.0), RuntimeError,
     "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda: gdcore.zeros(3).scatter(0, gdcore.tensor([0]), gdcore.zeros(1), reduce="max"), ValueError,
     "reduce must be 'add' or 'multiply'"),
    (lambda: gdcore.zeros(3).index_add(0, gdcore.tensor([4]), gdcore.ones(1)), IndexError,
     "index 4 is out of bounds for dimension 0 with size 3"),
    (lambda: gdcore.zeros(3).index_add(0, gdcore.tensor([0, 1]), gdcore.ones(3)), ValueError,
     "source of shape (3,) does not match: expected (2,)"),
    (lambda: gdcore.topk(gdcore.zeros(3), 4), RuntimeError, "selected index k out of range"),
    (lambda: gdcore.take_along_dim(gdcore.zeros(2, 3), gdcore.tensor([0]), dim=1), ValueError,
     "input and indices should have the same number of dimensions"),
    (lambda: gdcore.index_put(gdcore.zeros(3), (gdcore.tensor([9]),), gdcore.tensor(1.0)), IndexError,
     "index 9 is out of bounds for dimension 0 with size 3"),
])
def test_errors_name_the_problem(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


def test_scatter_multiply_refuses_gradients_and_in_place_variants_write_back():
    x = gdcore.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="reduce='multiply' is not implemented"):
        gdcore.scatter(x, 0, gdcore.tensor([0]), gdcore.ones(1), reduce="multiply")
    t = gdcore.zeros(2, 3)
    t.scatter_(1, gdcore.tensor([[2], [0]]), 5.0).scatter_add_(0, gdcore.tensor([[1, 1, 1]]), gdcore.ones(1, 3))
    assert t.tolist() == [[0.0, 0.0, 5.0], [6.0, 1.0, 1.0]]
    leaf = gdcore.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad .* in-place operation \(scatter_\)"):
        leaf.scatter_(0, gdcore.tensor([0]), 1.0)
