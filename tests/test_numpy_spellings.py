"""numpy's spellings torch accepts (gdcore/numpy_spellings.py, tensor_attributes.py):
``axis=``/``keepdims=`` on reductions and argmax/argmin, and the tensor attributes
``ndim T mT size(dim) numel nelement dim is_contiguous data_ptr element_size``.
Expected values come from numpy.
"""
import numpy as np
import pytest

import gdcore
from gdcore import numpy_spellings

A = np.array([[1.0, 5.0, -2.0], [3.0, 0.5, 4.0]], dtype=np.float32)


def _x():
    return gdcore.from_numpy(A.copy())


@pytest.mark.parametrize("name, reference", [
    ("sum", np.sum), ("mean", np.mean), ("amax", np.amax), ("amin", np.amin),
    ("argmax", np.argmax), ("argmin", np.argmin),
])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_axis_and_keepdims_as_functions_and_methods(name, reference, axis, keepdims):
    expected = reference(A, axis=axis, keepdims=keepdims)
    method = getattr(_x(), name)(axis=axis, keepdims=keepdims)
    function = getattr(gdcore, name)(_x(), axis=axis, keepdims=keepdims) if hasattr(gdcore, name) else method
    for got in (method, function):
        assert tuple(got.shape) == expected.shape
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)
    # mixed spellings, as torch allows: dim= with keepdims=, axis= with keepdim=
    mixed = getattr(_x(), name)(dim=axis, keepdims=keepdims)
    np.testing.assert_allclose(mixed.numpy(), expected, rtol=1e-6)


def test_max_min_with_axis_give_values_and_indices():
    values, indices = _x().max(axis=1, keepdims=True)
    np.testing.assert_array_equal(values.numpy(), A.max(axis=1, keepdims=True))
    np.testing.assert_array_equal(indices.numpy(), A.argmax(axis=1)[:, None])
    values, indices = gdcore.min(_x(), axis=0)
    np.testing.assert_array_equal(values.numpy(), A.min(axis=0))
    np.testing.assert_array_equal(indices.numpy(), A.argmin(axis=0))


def test_axis_tuple_and_positional_dim_still_work():
    np.testing.assert_allclose(_x().sum(axis=(0, 1)).item(), A.sum(), rtol=1e-6)
    np.testing.assert_allclose(_x().sum(1, keepdims=True).numpy(), A.sum(1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(_x().sum().item(), A.sum(), rtol=1e-6)


def test_both_spellings_at_once_is_an_error():
    with pytest.raises(TypeError, match="both dim= and its numpy spelling axis="):
        _x().sum(dim=0, axis=0)
    with pytest.raises(TypeError, match="both keepdim= and its numpy spelling keepdims="):
        gdcore.mean(_x(), 0, keepdim=True, keepdims=True)


def test_gradients_flow_through_the_aliases():
    w = gdcore.tensor(A, requires_grad=True)
    (w.sum(axis=0) * gdcore.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.tile([1.0, 2.0, 3.0], (2, 1)))


def test_every_listed_name_that_exists_accepts_axis():
    """Names other modules define (var, std, softmax, ...) get the aliases too when they exist."""
    wrapped = []
    for ns in (gdcore.Tensor, gdcore):
        for name in numpy_spellings.NAMES:
            fn = getattr(ns, name, None)
            if fn is not None:
                assert getattr(fn, "_numpy_spellings", False), f"{ns.__name__}.{name} lacks axis=/keepdims="
                wrapped.append(name)
    assert {"sum", "mean", "argmax", "argmin", "max", "min"} <= set(wrapped)


def test_wrapping_is_idempotent():
    fn = gdcore.Tensor.sum
    assert numpy_spellings.with_numpy_spellings(fn, "sum") is fn


# ---- attributes ----------------------------------------------------------------------------

def test_shape_attributes_against_numpy():
    b = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    x = gdcore.from_numpy(b.copy())
    assert x.ndim == b.ndim == x.dim()
    assert x.numel() == x.nelement() == b.size
    assert x.size(1) == 3 and x.size(-1) == 4 and tuple(x.size()) == b.shape
    np.testing.assert_array_equal(x.mT.numpy(), np.swapaxes(b, -2, -1))
    m = gdcore.from_numpy(A.copy())
    np.testing.assert_array_equal(m.T.numpy(), A.T)
    np.testing.assert_array_equal(m.mT.numpy(), A.T)
    assert x.is_contiguous() and not x.mT.is_contiguous()
    assert x.element_size() == 8 and m.element_size() == 4 and gdcore.arange(3).element_size() == 8
    shared = gdcore.from_numpy(b)
    assert shared.data_ptr() == b.__array_interface__["data"][0]  # from_numpy shares memory
    with pytest.raises(RuntimeError, match="only supported on matrices"):
        gdcore.ones(3).mT
