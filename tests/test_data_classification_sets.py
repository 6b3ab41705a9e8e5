"""make_moons, make_blobs, make_spirals (gdcore/data/classification_sets.py): shapes, class
balance, the formulas (checked with noise=0 against numpy), seeding, and bad input."""
import math

import numpy as np
import pytest

import gdcore
from gdcore.data import make_blobs, make_moons, make_spirals


def test_moons_without_noise_lie_on_the_two_half_circles():
    X, y = make_moons(101, seed=0)
    x, labels = X.numpy().astype(np.float64), y.numpy()
    assert X.dtype == gdcore.float32 and y.dtype == gdcore.int64 and x.shape == (101, 2)
    assert np.bincount(labels).tolist() == [50, 51]
    outer, inner = x[labels == 0], x[labels == 1]
    np.testing.assert_allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0, rtol=1e-6)
    assert outer[:, 1].min() >= -1e-6 and inner[:, 1].max() <= 0.5 + 1e-6


def test_blobs_around_given_centres_and_in_the_box():
    centres = [[0.0, 0.0], [10.0, -5.0]]
    X, y = make_blobs(400, centers=centres, cluster_std=0.5, seed=1)
    x, labels = X.numpy().astype(np.float64), y.numpy()
    for k, c in enumerate(centres):
        members = x[labels == k]
        assert len(members) == 200
        np.testing.assert_allclose(members.mean(0), c, atol=0.15)
        np.testing.assert_allclose(members.std(0), 0.5, rtol=0.15)
    X, y = make_blobs(30, centers=4, n_features=3, cluster_std=0.0, seed=2)
    assert tuple(X.shape) == (30, 3) and np.bincount(y.numpy()).tolist() == [8, 8, 7, 7]
    assert np.abs(X.numpy()).max() <= 10.0


def test_spirals_without_noise_follow_the_formula():
    X, y = make_spirals(90, classes=3, noise=0.0, shuffle=False, seed=0)
    x, labels = X.numpy().astype(np.float64), y.numpy()
    for j in range(3):
        arm = x[labels == j]
        r = np.linspace(0, 1, 30)
        t = 4 * j + 4 * r
        np.testing.assert_allclose(arm, np.stack([r * np.sin(t), r * np.cos(t)], 1), atol=1e-6)


@pytest.mark.parametrize("make", [make_moons, make_blobs, make_spirals])
def test_seeded_sets_are_reproducible_and_shuffled(make):
    kwargs = {"noise": 0.1} if make is not make_blobs else {}
    a, b = make(60, seed=7, **kwargs), make(60, seed=7, **kwargs)
    assert np.array_equal(a[0].numpy(), b[0].numpy()) and np.array_equal(a[1].numpy(), b[1].numpy())
    c = make(60, seed=8, **kwargs)
    assert not np.array_equal(a[0].numpy(), c[0].numpy())
    assert not np.all(np.diff(a[1].numpy()) >= 0)  # labels are not sorted: the rows were shuffled
    gdcore.manual_seed(3)
    d = make(60, **kwargs)
    gdcore.manual_seed(3)
    assert np.array_equal(d[0].numpy(), make(60, **kwargs)[0].numpy())


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be a positive int"):
        make_moons(0)
    with pytest.raises(ValueError, match="noise must be a number >= 0"):
        make_spirals(noise=-1)
    with pytest.raises(ValueError, match="pass either generator= or seed="):
        make_blobs(generator=gdcore.Generator(0), seed=1)
    with pytest.raises(ValueError, match=r"centers must be an int or a \(k, n_features\) list"):
        make_blobs(centers=[1.0, 2.0])
    assert math.isfinite(float(make_moons(3, noise=0.5, seed=0)[0].sum().item()))
