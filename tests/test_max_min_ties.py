"""Where the gradient of max/min goes when several elements tie, as in torch 2.x:
- ``values, indices = x.max(dim)`` (and min): all of it to the returned index (the first extreme
  element, as argmax), none to the others (torch's MaxBackward0);
- ``x.max()`` / ``x.min()`` over everything, and ``amax`` / ``amin`` with or without dims: shared evenly
  among the tied elements (torch's MaxBackward1, AmaxBackward0).
Expected gradients are built with numpy (argmax one-hots, tie counts); a NaN wins max(dim), argmax and
min(dim) as in torch. Also the grad_fn names torch gives the two pows.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gdcore
from gdcore.autograd import gradcheck


def _leaf(a: np.ndarray) -> gdcore.Tensor:
    return gdcore.tensor(a, dtype=gdcore.float64, requires_grad=True)


def _one_hot_at_argext(a: np.ndarray, dim: int, is_max: bool, weight: np.ndarray) -> np.ndarray:
    """d(sum(weight * x.max(dim).values))/dx by a plain loop: weight at the first extreme of each line."""
    moved = np.moveaxis(a, dim, -1)
    grad = np.zeros_like(moved)
    for pos in np.ndindex(moved.shape[:-1]):
        line = moved[pos]
        k = int(np.argmax(line) if is_max else np.argmin(line))  # numpy's argmax: the first of ties
        grad[pos + (k,)] = weight[pos]
    return np.moveaxis(grad, -1, dim)


def _shared_among_ties(a: np.ndarray, dims, is_max: bool, weight: np.ndarray) -> np.ndarray:
    ext = a.max(axis=dims, keepdims=True) if is_max else a.min(axis=dims, keepdims=True)
    hit = (a == ext).astype(np.float64)
    return hit / hit.sum(axis=dims, keepdims=True) * weight.reshape(ext.shape)


# Small integers as values, so that ties are frequent.
_tied = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**31 - 1))


@settings(max_examples=40, deadline=None)
@given(_tied, st.integers(-3, 2), st.booleans(), st.booleans())
def test_max_min_dim_send_the_gradient_to_the_returned_index(spec, dim, is_max, keepdim):
    *shape, seed = spec
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, size=shape).astype(np.float64)
    x = _leaf(a)
    values, indices = x.max(dim, keepdim=keepdim) if is_max else x.min(dim, keepdim=keepdim)
    expected_index = np.argmax(a, axis=dim) if is_max else np.argmin(a, axis=dim)
    if keepdim:
        expected_index = np.expand_dims(expected_index, dim)
    assert np.array_equal(indices.numpy(), expected_index)
    assert np.array_equal(values.detach().numpy(), np.take_along_axis(a, expected_index if keepdim else
                                                                      np.expand_dims(expected_index, dim), dim)
                          .reshape(values.shape))
    weight = rng.normal(size=values.shape)
    (values * gdcore.tensor(weight)).sum().backward()
    flat_weight = weight if not keepdim else np.squeeze(weight, dim)
    assert np.array_equal(x.grad.numpy(), _one_hot_at_argext(a, dim % a.ndim, is_max, flat_weight))


@settings(max_examples=40, deadline=None)
@given(_tied, st.sampled_from([None, (0,), (1, 2), (0, 2), (0, 1, 2)]), st.booleans(), st.booleans())
def test_amax_amin_and_full_max_share_the_gradient_among_ties(spec, dims, is_max, keepdim):
    *shape, seed = spec
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, size=shape).astype(np.float64)
    x = _leaf(a)
    if dims is None:  # x.max() / x.min(): torch's MaxBackward1 shares evenly too
        out = x.max() if is_max else x.min()
        dims = (0, 1, 2)
    else:
        out = x.amax(dims, keepdim=keepdim) if is_max else x.amin(dims, keepdim=keepdim)
    weight = rng.normal(size=out.shape)
    (out * gdcore.tensor(weight)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), _shared_among_ties(a, dims, is_max, weight), rtol=1e-15, atol=0)


def test_the_example_in_torchs_words():
    # torch 2.13: x.max(1) gives [[0, 1, 0], [1, 0, 0]]; x.amax(1) gives [[0, .5, .5], [.5, .5, 0]];
    # x.max() gives [[0, .5, .5], [0, 0, 0]].
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    x = _leaf(a)
    x.max(1).values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    x = _leaf(a)
    x.amax(1).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]]
    x = _leaf(a)
    x.max().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]]
    x = _leaf(a)
    gdcore.min(x, 0).values.sum().backward()    # the function spelling too
    assert x.grad.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]


def test_nan_is_the_extreme_of_max_dim_min_dim_and_argmax_as_in_torch():
    nan = float("nan")
    x = gdcore.tensor([[1.0, nan, 3.0, nan], [2.0, 5.0, 5.0, 1.0]])
    values, indices = x.max(1)
    assert indices.tolist() == [1, 1] and np.isnan(values[0].item()) and values[1].item() == 5.0
    values, indices = x.min(1)
    assert indices.tolist() == [1, 3] and np.isnan(values[0].item()) and values[1].item() == 1.0
    assert x.argmax(1).tolist() == [1, 1] and x.argmin(1).tolist() == [1, 3]


@settings(max_examples=15, deadline=None)
@given(_tied, st.integers(-3, 2), st.booleans())
def test_max_dim_gradcheck_without_ties(spec, dim, is_max):
    *shape, seed = spec
    a = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) / 7.0  # distinct values
    x = _leaf(a)
    assert gradcheck(lambda t: (t.max(dim) if is_max else t.min(dim)).values, [x])


def test_max_dim_edge_cases():
    x = gdcore.tensor(3.0, dtype=gdcore.float64, requires_grad=True)
    values, indices = x.max(0)                 # a 0-d tensor, as torch: itself and index 0
    values.backward()
    assert values.item() == 3.0 and indices.item() == 0 and x.grad.item() == 1.0
    assert gdcore.tensor([[True, False], [True, True]]).max(1).indices.tolist() == [0, 0]
    with pytest.raises(ValueError, match=r"max: cannot reduce over the empty dimension 1 of the tensor of shape "
                                         r"\(2, 0\)"):
        gdcore.zeros(2, 0).max(1)
    with pytest.raises(IndexError):
        gdcore.zeros(2, 3).min(2)


def test_the_two_pows_have_torchs_grad_fn_names():
    # torch 2.13: x ** 2 and torch.pow(x, 2) are PowBackward0, x ** y and x.pow(y) PowBackward1.
    x = gdcore.tensor([2.0, 3.0], requires_grad=True)
    y = gdcore.tensor([1.5, 0.5], requires_grad=True)
    assert (x ** 2).grad_fn.name() == "PowBackward0"
    assert gdcore.pow(x, 2.5).grad_fn.name() == "PowBackward0"
    assert (x ** y).grad_fn.name() == "PowBackward1"
    assert x.pow(y).grad_fn.name() == "PowBackward1"


def test_compiled_steps_find_the_extremes_of_each_new_input():
    # max(dim) gathers its values at argmax's indices; a replay must recompute them (not reuse the first ones).
    def step(x):
        values, indices = x.max(1)
        low, where = x.min(0, keepdim=True)
        return values.sum() + indices.sum() + low.sum() * 10 + where.sum() * 100

    compiled = gdcore.compile(step)
    rng = np.random.default_rng(3)
    for _ in range(4):
        a = rng.integers(0, 4, size=(3, 5)).astype(np.float32)
        expected = a.max(1).sum() + np.argmax(a, 1).sum() + a.min(0).sum() * 10 + np.argmin(a, 0).sum() * 100
        assert compiled(gdcore.tensor(a)).item() == expected
