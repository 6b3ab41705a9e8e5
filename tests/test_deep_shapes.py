"""Tensors of more than six dims: the core keeps up to six sizes and strides inside the
tensor and moves deeper shapes to the heap (gdcore::Shape). These run ops, views,
broadcasting and backward on 7- to 9-d tensors, against numpy and finite differences."""
import numpy as np
import pytest

import gdcore
from gdcore.autograd import gradcheck


@pytest.mark.parametrize("shape", [(2, 1, 3, 1, 2, 1, 2), (1, 2, 1, 2, 1, 2, 1, 2), (2,) * 9])
def test_elementwise_reduction_and_views_match_numpy(shape):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape)
    b = rng.standard_normal(shape[-3:])  # broadcast from the right
    ta, tb = gdcore.tensor(a), gdcore.tensor(b)
    np.testing.assert_allclose((ta * tb + 1.0).numpy(), a * b + 1.0, rtol=1e-12)
    np.testing.assert_allclose(ta.sum(dim=(0, 3)).numpy(), a.sum(axis=(0, 3)), rtol=1e-12)
    np.testing.assert_allclose(ta.permute(*reversed(range(len(shape)))).numpy(), a.transpose(), rtol=0)
    np.testing.assert_allclose(ta.reshape(-1).numpy(), a.reshape(-1), rtol=0)
    np.testing.assert_allclose(ta.unsqueeze(2).numpy(), np.expand_dims(a, 2), rtol=0)
    assert tuple(ta[..., 0].shape) == a[..., 0].shape


def test_backward_through_a_deep_broadcast_matches_finite_differences():
    rng = np.random.default_rng(1)
    x = gdcore.tensor(rng.standard_normal((2, 1, 2, 1, 2, 1, 2)), requires_grad=True)
    w = gdcore.tensor(rng.standard_normal((1, 3, 1, 2, 1, 2, 1)), requires_grad=True)
    assert gradcheck(lambda x, w: ((x * w).exp() * x).sum(dim=(1, 4)), (x, w))


def test_gradient_of_a_deep_leaf_is_accumulated_in_place_shape():
    x = gdcore.ones(1, 2, 1, 2, 1, 2, 1, 2, requires_grad=True)
    (x * 3.0).sum().backward()
    (x * 2.0).sum().backward()
    assert tuple(x.grad.shape) == (1, 2, 1, 2, 1, 2, 1, 2)
    np.testing.assert_array_equal(x.grad.numpy(), np.full(x.shape, 5.0, dtype=np.float32))
