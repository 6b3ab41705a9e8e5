"""cdist: p-norm distances between two batches of points, against a plain numpy loop; gradcheck
(float64) with broadcasting batch dims; the zero-distance gradient; bad input."""
import numpy as np
import pytest

import gdcore
from gdcore.autograd import gradcheck


def _loop_cdist(a, b, p):
    out = np.zeros(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-2]))
    a, b = np.broadcast_to(a, out.shape[:-2] + a.shape[-2:]), np.broadcast_to(b, out.shape[:-2] + b.shape[-2:])
    for idx in np.ndindex(*out.shape):
        d = np.abs(a[idx[:-2] + (idx[-2],)] - b[idx[:-2] + (idx[-1],)])
        out[idx] = d.max() if p == np.inf else (np.count_nonzero(d) if p == 0 else (d ** p).sum() ** (1 / p))
    return out


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.0, float("inf")])
@pytest.mark.parametrize("shapes", [((4, 3), (5, 3)), ((2, 4, 3), (5, 3)), ((2, 1, 3, 2), (4, 6, 2))])
def test_values_match_a_loop(p, shapes):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    out = gdcore.cdist(gdcore.tensor(a), gdcore.tensor(b), p=p)
    np.testing.assert_allclose(out.numpy(), _loop_cdist(a, b, p), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("p", [2.0, 1.5, 3.0])
def test_gradcheck_with_broadcast_batches(p):
    rng = np.random.default_rng(1)
    a = gdcore.tensor(rng.standard_normal((2, 3, 2)), requires_grad=True)
    b = gdcore.tensor(rng.standard_normal((1, 4, 2)), requires_grad=True)
    assert gradcheck(lambda x, y: gdcore.cdist(x, y, p=p), [a, b])


def test_zero_distance_has_a_zero_gradient():
    x = gdcore.tensor([[1.0, 2.0], [3.0, 5.0]], dtype=gdcore.float64, requires_grad=True)
    gdcore.cdist(x, x).sum().backward()
    # d/dx_i of sum_j ||x_i - x_j|| counted twice (as row and as column); the diagonal adds nothing.
    unit = (np.array([1.0, 2.0]) - np.array([3.0, 5.0])) / np.sqrt(13.0)
    np.testing.assert_allclose(x.grad.numpy(), np.stack([2 * unit, -2 * unit]))


@pytest.mark.parametrize("call, error, match", [
    (lambda: gdcore.cdist(gdcore.ones(3), gdcore.ones(2, 3)), ValueError, "at least 2 dimensions"),
    (lambda: gdcore.cdist(gdcore.ones(2, 3), gdcore.ones(2, 4)), ValueError, "same number of columns"),
    (lambda: gdcore.cdist(gdcore.ones(2, 3), gdcore.ones(2, 3), p=-1), ValueError, "non-negative"),
    (lambda: gdcore.cdist(gdcore.ones(2, 3, dtype=gdcore.int64), gdcore.ones(2, 3, dtype=gdcore.int64)), TypeError,
     "floating"),
    (lambda: gdcore.cdist([[1.0]], gdcore.ones(1, 1)), TypeError, "x1"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
