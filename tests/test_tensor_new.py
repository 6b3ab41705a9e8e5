"""Tensor.new_zeros / new_ones / new_full / new_empty / new_tensor and empty_like / randint_like:
the size as given (or the input's), the dtype of the tensor they are called on unless dtype= says
otherwise, a cuda device refused. Expected values are numpy's."""
import numpy as np
import pytest

import gdcore


@pytest.mark.parametrize("dtype", [gdcore.float32, gdcore.float64, gdcore.int64, gdcore.int32, gdcore.bool])
def test_new_functions_take_the_dtype_of_self(dtype):
    x = gdcore.zeros(2, dtype=dtype)
    for t in (x.new_zeros(2, 3), x.new_zeros((2, 3)), x.new_ones([2, 3]), x.new_empty(2, 3),
              x.new_full((2, 3), 1)):
        assert t.dtype == dtype and t.shape == (2, 3) and not t.requires_grad
    assert x.new_tensor([1, 0]).dtype == dtype
    np.testing.assert_array_equal(x.new_ones(2, 3).numpy(), np.ones((2, 3), dtype=x.numpy().dtype))


def test_new_functions_values_and_keywords():
    x = gdcore.arange(3)
    np.testing.assert_array_equal(x.new_full((2,), 1.5).numpy(), np.array([1, 1]))  # cast to int64, as torch
    assert x.new_zeros(2, dtype=gdcore.float64).dtype == gdcore.float64
    assert x.new_zeros(2, device="cpu").shape == (2,)
    y = gdcore.zeros(1, dtype=gdcore.float64).new_tensor([[1, 2]], requires_grad=True)
    assert y.dtype == gdcore.float64 and y.requires_grad and y.is_leaf and y.tolist() == [[1.0, 2.0]]
    assert x.new_empty(0).shape == (0,)
    with pytest.raises(RuntimeError, match="CPU"):
        x.new_zeros(2, device="cuda")


def test_new_tensor_from_a_tensor_copies_and_warns_as_torch():
    src = gdcore.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="detach"):
        t = gdcore.zeros(1, dtype=gdcore.float64).new_tensor(src)
    assert t.dtype == gdcore.float64 and not t.requires_grad and t.grad_fn is None
    t[0] = 5.0
    assert src[0].item() == 1.0


def test_empty_like_and_randint_like():
    x = gdcore.ones(3, 4, dtype=gdcore.float64)
    e = gdcore.empty_like(x)
    assert e.shape == (3, 4) and e.dtype == gdcore.float64
    assert gdcore.empty_like(x, dtype=gdcore.int64).dtype == gdcore.int64
    gdcore.manual_seed(0)
    r = gdcore.randint_like(x, 5)
    assert r.dtype == gdcore.float64 and r.shape == (3, 4)
    v = r.numpy()
    assert ((v >= 0) & (v < 5) & (v == np.floor(v))).all()
    r2 = gdcore.randint_like(gdcore.zeros(1000, dtype=gdcore.int64), 2, 5).numpy()
    assert r2.min() == 2 and r2.max() == 4
