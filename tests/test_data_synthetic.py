"""The synthetic data sets of workflows (a)-(d) (gdcore/data/synthetic.py).

Checks use the documented formulas: literal tables, closed-form linspace values, the
bounds of the uniform noise, and a numpy least-squares fit for the noisy line.
"""
import numpy as np
import pytest

import gdcore
from gdcore.data import doubling_points, noisy_identity_line, noisy_linear, twenty_points


def test_twenty_points_is_the_chapter_table():
    x, y = twenty_points()
    assert x.shape == y.shape == (20,) and x.dtype == gdcore.float32
    assert x.tolist() == [float(i) for i in range(1, 21)]
    assert y.tolist() == [3, 4, 5, 5, 2, 4, 7, 8, 11, 8, 12, 11, 13, 13, 16, 17, 18, 17, 19, 21]
    assert twenty_points(dtype=gdcore.float64)[0].dtype == gdcore.float64


def test_noisy_identity_line_formula():
    x, y = noisy_identity_line(seed=4)
    assert x.shape == y.shape == (20,)
    np.testing.assert_allclose(x.numpy(), [1 + i * 20 / 19 for i in range(20)], rtol=1e-6)
    noise = (y - x).numpy()
    assert noise.min() >= 0 and noise.max() < 0.8 + 1e-6 and noise.std() > 0.1


def test_noisy_linear_recovers_slope_and_intercept_by_least_squares():
    x, y = noisy_linear(seed=11)
    assert x.shape == y.shape == (100, 1)
    design = np.column_stack([x.numpy()[:, 0], np.ones(100)]).astype(np.float64)
    (slope, intercept), *_ = np.linalg.lstsq(design, y.numpy()[:, 0].astype(np.float64), rcond=None)
    assert abs(slope - 3) < 0.2 and abs(intercept - 10) < 0.2
    residual = y.numpy()[:, 0] - (3 * x.numpy()[:, 0] + 10)
    assert 0.35 < residual.std() < 0.65  # noise_std = 0.5


def test_noisy_linear_parameters():
    x, y = noisy_linear(n=7, slope=-2.0, intercept=1.0, noise_std=0.0, seed=1, dtype=gdcore.float64)
    assert x.dtype == gdcore.float64 and x.shape == (7, 1)
    np.testing.assert_array_equal(y.numpy(), -2.0 * x.numpy() + 1.0)


def test_doubling_points():
    x, y = doubling_points()
    assert x.shape == y.shape == (3, 1)
    assert x.flatten().tolist() == [1.0, 2.0, 3.0] and y.flatten().tolist() == [2.0, 4.0, 6.0]


def test_seeds_and_generators_reproduce():
    a = noisy_linear(seed=3)[1].numpy()
    assert np.array_equal(a, noisy_linear(seed=3)[1].numpy())
    assert np.array_equal(a, noisy_linear(generator=gdcore.Generator(3))[1].numpy())
    assert not np.array_equal(a, noisy_linear(seed=4)[1].numpy())
    gdcore.manual_seed(8)
    b = noisy_identity_line()[1].numpy()
    gdcore.manual_seed(8)
    assert np.array_equal(b, noisy_identity_line()[1].numpy())


def test_bad_arguments():
    with pytest.raises(ValueError, match="either generator= or seed="):
        noisy_linear(generator=gdcore.Generator(1), seed=1)
    with pytest.raises(TypeError, match="gdcore.Generator"):
        noisy_identity_line(generator=1)
    with pytest.raises(ValueError, match="n must be a positive int, got 0"):
        noisy_linear(n=0)
