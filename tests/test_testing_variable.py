"""gdcore.testing.assert_close (torch's default tolerances by dtype, messages, msg=) and the
deprecated gdcore.autograd.Variable (gdcore/testing.py, gdcore/autograd/variable.py)."""
import math

import numpy as np
import pytest

import gdcore
from gdcore.autograd import Variable
from gdcore.testing import assert_close


def test_default_tolerances_by_dtype():
    assert_close(gdcore.tensor([1.0, 2.0]), gdcore.tensor([1.0, 2.0 + 1e-5]))  # float32: atol 1e-5 + rtol 1.3e-6 * 2
    with pytest.raises(AssertionError, match="not close"):
        assert_close(gdcore.tensor([1.0, 2.0]), gdcore.tensor([1.0, 2.0 + 3e-5]))
    d = gdcore.float64
    assert_close(gdcore.tensor([1.0], dtype=d), gdcore.tensor([1.0 + 1.5e-7], dtype=d))  # 1e-7 + 1e-7 * 1
    with pytest.raises(AssertionError):
        assert_close(gdcore.tensor([1.0], dtype=d), gdcore.tensor([1.0 + 3e-7], dtype=d))
    with pytest.raises(AssertionError, match="not equal"):
        assert_close(gdcore.tensor([1, 2]), gdcore.tensor([1, 3]))
    assert_close(gdcore.tensor([1.0, 2.0]), gdcore.tensor([1.0, 2.1]), rtol=0.1, atol=0.0)


def test_messages():
    with pytest.raises(AssertionError) as info:
        assert_close(gdcore.tensor([1.0, 2.0]), gdcore.tensor([1.0, 2.5]))
    text = str(info.value)
    assert "Mismatched elements: 1 / 2 (50.0%)" in text and "Greatest absolute difference: 0.5 at index (1,)" in text
    assert "Greatest relative difference: 0.2 at index (1,)" in text
    with pytest.raises(AssertionError, match="attribute 'dtype' do not match"):
        assert_close(gdcore.zeros(2), gdcore.zeros(2, dtype=gdcore.float64))
    assert_close(gdcore.zeros(2), gdcore.zeros(2, dtype=gdcore.float64), check_dtype=False)
    with pytest.raises(AssertionError, match=r"gdcore.Size\(\[2\]\) != gdcore.Size\(\[3\]\)"):
        assert_close(gdcore.zeros(2), gdcore.zeros(3))
    with pytest.raises(AssertionError, match="^custom$"):
        assert_close(gdcore.zeros(1), gdcore.ones(1), msg="custom")
    with pytest.raises(AssertionError, match="failure occurred for item \\[1\\]"):
        assert_close([gdcore.zeros(1), gdcore.zeros(1)], [gdcore.zeros(1), gdcore.ones(1)])


def test_nan_numbers_and_containers():
    nan = math.nan
    with pytest.raises(AssertionError, match="nan at index"):
        assert_close(gdcore.tensor([1.0, nan]), gdcore.tensor([1.0, nan]))
    assert_close(gdcore.tensor([1.0, nan]), gdcore.tensor([1.0, nan]), equal_nan=True)
    assert_close(gdcore.tensor([math.inf]), gdcore.tensor([math.inf]))
    assert_close(1.0, 1.0 + 1e-9)
    with pytest.raises(AssertionError, match="Scalars are not close"):
        assert_close(1.0, 1.1)
    assert_close({"w": gdcore.ones(2)}, {"w": gdcore.ones(2)})
    assert_close(np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="got no atol"):
        assert_close(gdcore.ones(1), gdcore.ones(1), rtol=0.1)


def test_variable_is_a_deprecated_tensor_factory():
    x = gdcore.ones(2)
    v = Variable(x, requires_grad=True)
    assert isinstance(v, gdcore.Tensor) and v.requires_grad and v.grad_fn is None and v is not x
    v.detach().add_(1.0)
    assert x.tolist() == [2.0, 2.0]  # shares x's memory
    assert isinstance(x, Variable)
    y = gdcore.ones(2, requires_grad=True) * 2
    assert not Variable(y).requires_grad and Variable(y).grad_fn is None
    with pytest.raises(TypeError, match="Variable data has to be a tensor"):
        Variable([1.0])
    with pytest.warns(UserWarning, match="volatile was removed"):
        Variable(x, volatile=True)
