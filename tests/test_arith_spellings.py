"""torch's keyword forms of add/sub/div (alpha=, rounding_mode=) and the aliases subtract, multiply,
divide, true_divide: values against numpy and plain Python integer arithmetic."""
import numpy as np
import pytest

import gdcore
from gdcore.autograd import gradcheck


def _trunc_div_int(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def test_div_trunc_and_floor_on_floats_match_numpy():
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((6, 7)) * 10).astype(np.float32)
    b = rng.standard_normal((1, 7)).astype(np.float32)
    np.testing.assert_array_equal(gdcore.div(gdcore.tensor(a), gdcore.tensor(b), rounding_mode="trunc").numpy(),
                                  np.trunc(a / b))
    np.testing.assert_array_equal(gdcore.div(gdcore.tensor(a), gdcore.tensor(b), rounding_mode="floor").numpy(),
                                  np.floor_divide(a, b))
    np.testing.assert_allclose(gdcore.div(gdcore.tensor(a), gdcore.tensor(b)).numpy(), a / b, rtol=1e-6)


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_div_rounding_on_integers_matches_python(mode):
    rng = np.random.default_rng(1)
    a = rng.integers(-100, 100, 200)
    b = rng.integers(1, 20, 200) * rng.choice([-1, 1], 200)
    expected = [(_trunc_div_int(int(x), int(y)) if mode == "trunc" else int(x) // int(y)) for x, y in zip(a, b)]
    out = gdcore.div(gdcore.tensor(a), gdcore.tensor(b), rounding_mode=mode)
    assert out.dtype == gdcore.int64
    assert out.tolist() == expected
    assert gdcore.tensor(a).div(gdcore.tensor(b), rounding_mode=mode).tolist() == expected
    assert gdcore.divide(gdcore.tensor(a), gdcore.tensor(b), rounding_mode=mode).tolist() == expected


def test_div_trunc_with_numbers_on_either_side_and_mixed_dtypes():
    assert gdcore.div(7, gdcore.tensor([2, -2]), rounding_mode="trunc").tolist() == [3, -3]
    out = gdcore.div(gdcore.tensor([5, -5]), 2.5, rounding_mode="trunc")
    assert out.dtype == gdcore.float32 and out.tolist() == [2.0, -2.0]


def test_div_trunc_has_a_zero_gradient_as_torch():
    x = gdcore.tensor([7.5, -7.5], dtype=gdcore.float64, requires_grad=True)
    gdcore.div(x, 2.0, rounding_mode="trunc").sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_in_place_forms():
    t = gdcore.tensor([5, -5])
    assert t.div_(2, rounding_mode="trunc") is t and t.tolist() == [2, -2]
    f = gdcore.tensor([1.0, 2.0])
    f.sub_(gdcore.tensor([1.0, 1.0]), alpha=2)
    assert f.tolist() == [-1.0, 0.0]
    f.div_(2, rounding_mode="floor")
    assert f.tolist() == [-1.0, 0.0]
    with pytest.raises(RuntimeError, match="integer"):
        gdcore.tensor([5]).div_(2)


def test_add_and_sub_with_alpha_match_numpy_and_are_differentiable():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    ta, tb = gdcore.tensor(a, requires_grad=True), gdcore.tensor(b, requires_grad=True)
    np.testing.assert_allclose(gdcore.add(ta, tb, alpha=2.5).detach().numpy(), a + 2.5 * b)
    np.testing.assert_allclose(gdcore.sub(ta, tb, alpha=-3).detach().numpy(), a + 3 * b)
    np.testing.assert_allclose(ta.sub(tb, alpha=0.5).detach().numpy(), a - 0.5 * b)
    np.testing.assert_allclose(gdcore.subtract(ta, tb).detach().numpy(), a - b)
    np.testing.assert_allclose(gdcore.multiply(ta, tb).detach().numpy(), a * b)
    np.testing.assert_allclose(ta.true_divide(2.0).detach().numpy(), a / 2)
    assert gradcheck(lambda x, y: gdcore.sub(x, y, alpha=1.5), [ta, tb])
    assert gradcheck(lambda x, y: gdcore.add(x, y, alpha=-2), [ta, tb])


@pytest.mark.parametrize("call, error, match", [
    (lambda: gdcore.div(gdcore.tensor([1.0]), 2, rounding_mode="round"), ValueError, "rounding_mode"),
    (lambda: gdcore.add(gdcore.tensor([1]), gdcore.tensor([1]), alpha=0.5), RuntimeError, "alpha"),
    (lambda: gdcore.sub(gdcore.tensor([1.0]), 1, alpha="2"), TypeError, "alpha"),
    (lambda: gdcore.tensor([1.0]).div(2, mode="floor"), TypeError, "div"),
])
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
