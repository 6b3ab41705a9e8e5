"""isclose, allclose and equal against numpy's isclose / allclose / array_equal (the same formula,
|a - b| <= atol + rtol * |b|), including infinities, NaN with and without equal_nan, broadcasting
and integer tensors; mismatched dtypes and negative tolerances raise as in torch."""
import math

import numpy as np
import pytest

import gdcore


def test_isclose_matches_numpy():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 5))
    b = a + rng.choice([0.0, 1e-9, 1e-6, 1e-3, 1.0], size=a.shape)
    a[0, :3] = [math.inf, -math.inf, math.nan]
    b[0, :3] = [math.inf, math.inf, math.nan]
    b[1, 0] = math.nan
    for rtol, atol, equal_nan in [(1e-5, 1e-8, False), (1e-5, 1e-8, True), (0.0, 1e-6, False), (1e-2, 0.0, True)]:
        got = gdcore.isclose(gdcore.tensor(a), gdcore.tensor(b), rtol=rtol, atol=atol, equal_nan=equal_nan)
        assert got.dtype == gdcore.bool
        np.testing.assert_array_equal(got.numpy(), np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))
    row = gdcore.tensor(b[2:3])
    np.testing.assert_array_equal(gdcore.tensor(a).isclose(row).numpy(), np.isclose(a, b[2:3]))


def test_isclose_integers_and_bool():
    a, b = np.array([1, 2, 10]), np.array([1, 3, 12])
    np.testing.assert_array_equal(gdcore.isclose(gdcore.tensor(a), gdcore.tensor(b), atol=1).numpy(),
                                  np.isclose(a, b, atol=1, rtol=1e-5))
    t = gdcore.tensor([True, False])
    assert gdcore.isclose(t, gdcore.tensor([True, True])).tolist() == [True, False]


def test_allclose_and_equal():
    a = np.array([1.0, 2.0, 3.0])
    x = gdcore.tensor(a)
    assert gdcore.allclose(x, gdcore.tensor(a + 1e-9)) is True
    assert x.allclose(gdcore.tensor(a + 1e-3)) is False
    assert gdcore.allclose(x, gdcore.tensor(a + 1e-3), atol=1e-2) is True
    assert gdcore.allclose(gdcore.tensor([1.0, math.nan]), gdcore.tensor([1.0, math.nan])) is False
    assert gdcore.allclose(gdcore.tensor([1.0, math.nan]), gdcore.tensor([1.0, math.nan]), equal_nan=True) is True
    assert gdcore.allclose(gdcore.tensor([1.0, 1.0]), gdcore.tensor([1.0])) is True  # broadcasts, as torch
    assert gdcore.equal(x, gdcore.tensor(a)) is True
    assert x.equal(gdcore.tensor([1, 2, 3])) is True  # across dtypes, as torch 2.x
    assert gdcore.equal(x, gdcore.tensor([1.0, 2.0])) is False  # shapes differ: False, not an error
    assert gdcore.equal(gdcore.tensor([math.nan]), gdcore.tensor([math.nan])) is False


def test_isclose_refusals():
    with pytest.raises(RuntimeError, match="Long did not match Float"):
        gdcore.isclose(gdcore.tensor([1]), gdcore.tensor([1.0]))
    with pytest.raises(RuntimeError, match="rtol must be greater than or equal to zero"):
        gdcore.isclose(gdcore.ones(1), gdcore.ones(1), rtol=-1)
    with pytest.raises(RuntimeError, match="atol must be greater than or equal to zero"):
        gdcore.allclose(gdcore.ones(1), gdcore.ones(1), atol=-1)
    with pytest.raises(TypeError, match="must be a gdcore.Tensor"):
        gdcore.allclose([1.0], gdcore.ones(1))
