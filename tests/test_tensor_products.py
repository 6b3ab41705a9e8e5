"""kron, cross (and linalg.cross) and tensordot against numpy's kron, cross and tensordot, with
broadcasting, and their gradients against finite differences in float64."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gdcore
from gdcore.autograd import gradcheck

SETTINGS = settings(max_examples=15, deadline=None)
seeds = st.integers(0, 2**32 - 1)
small = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


def leaf(a):
    return gdcore.tensor(np.asarray(a, dtype=np.float64), dtype=gdcore.float64, requires_grad=True)


@given(sa=small, sb=small, seed=seeds)
@SETTINGS
def test_kron_matches_numpy(sa, sb, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    got = gdcore.kron(gdcore.tensor(a, dtype=gdcore.float64), gdcore.tensor(b, dtype=gdcore.float64))
    np.testing.assert_allclose(got.numpy(), np.kron(a, b), rtol=1e-12)
    assert gradcheck(lambda x, y: (x.kron(y) ** 2).sum(), [leaf(a), leaf(b)])


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=3), seed=seeds,
       data=st.data())
@SETTINGS
def test_cross_matches_numpy(shapes, seed, data):
    (sa, sb), out = shapes.input_shapes, shapes.result_shape
    dim = data.draw(st.integers(0, len(out) - 1))
    sa = [1] * (len(out) - len(sa)) + list(sa)
    sb = [1] * (len(out) - len(sb)) + list(sb)
    sa[dim] = sb[dim] = 3
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    got = gdcore.cross(gdcore.tensor(a, dtype=gdcore.float64), gdcore.tensor(b, dtype=gdcore.float64), dim=dim)
    np.testing.assert_allclose(got.numpy(), np.cross(a, b, axis=dim), rtol=1e-12, atol=1e-14)
    assert gradcheck(lambda x, y: (x.cross(y, dim) ** 2).sum(), [leaf(a), leaf(b)])


def test_cross_default_dim_and_linalg_cross():
    a, b = np.random.default_rng(0).standard_normal((2, 3, 3)), np.random.default_rng(1).standard_normal((3, 3))
    with pytest.warns(UserWarning, match="without specifying the dim"):
        got = gdcore.cross(gdcore.tensor(a), gdcore.tensor(b))  # the first dimension of size 3: dim 1
    np.testing.assert_allclose(got.numpy(), np.cross(a, np.broadcast_to(b, a.shape), axis=1), rtol=1e-5)
    np.testing.assert_allclose(gdcore.linalg.cross(gdcore.tensor(a), gdcore.tensor(b)).numpy(), np.cross(a, b),
                               rtol=1e-5)


@pytest.mark.parametrize("sa, sb, dims", [
    ((2, 3, 4), (3, 4, 5), 2), ((2, 3, 4), (4, 3, 5), ([1, 2], [1, 0])), ((2, 3), (4, 5), 0),
    ((2, 3), (3, 5), 1), ((3,), (3,), 1), ((2, 3), (3, 2), [[1, 0], [0, 1]]),
])
def test_tensordot_matches_numpy(sa, sb, dims):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    got = gdcore.tensordot(gdcore.tensor(a, dtype=gdcore.float64), gdcore.tensor(b, dtype=gdcore.float64), dims)
    np.testing.assert_allclose(got.numpy(), np.tensordot(a, b, dims), rtol=1e-12)
    assert gradcheck(lambda x, y: (gdcore.tensordot(x, y, dims) ** 2).sum(), [leaf(a), leaf(b)])


def test_second_order_through_cross_and_kron():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))

    def first_grad(x, y):
        with gdcore.enable_grad():  # gradcheck's finite differences run under no_grad on plain tensors
            x = x if x.requires_grad else x.detach().requires_grad_(True)
            (gx,) = gdcore.autograd.grad((x.cross(y, 1) ** 2).sum() + (x.kron(y) ** 2).sum(), x, create_graph=True)
            return (gx ** 2).sum()
    assert gradcheck(first_grad, [leaf(a), leaf(b)])
