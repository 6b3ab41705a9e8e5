"""Seeded synthetic classification sets for demos that need no file: ``make_moons``,
``make_blobs`` and ``make_spirals`` (scikit-learn's and CS231n's recipes).

Each returns ``(X, y)``: X a float32 tensor (n, 2) (or (n, n_features)), y an int64 tensor (n,)
of class indices 0..k-1, rows in random order. The random numbers come from ``generator`` (a
gdcore.Generator), a fresh ``Generator(seed)`` when ``seed`` is given, or gdcore's default
generator, so every set can be reproduced.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from .._core import Generator
from ..creation import float64 as _F64
from ..creation import from_numpy, rand, randn, randperm
from .synthetic import _generator, _positive_count

__all__ = ["make_moons", "make_blobs", "make_spirals"]


def _normal(shape, gen) -> np.ndarray:
    return randn(*shape, generator=gen, dtype=_F64).numpy()


def _finish(x: np.ndarray, y: np.ndarray, gen, shuffle: bool):
    if shuffle:
        order = randperm(len(y), generator=gen).numpy()
        x, y = x[order], y[order]
    return from_numpy(np.ascontiguousarray(x, dtype=np.float32)), from_numpy(np.ascontiguousarray(y, dtype=np.int64))


def _check_noise(noise, who: str) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not noise >= 0:
        raise ValueError(f"{who}: noise must be a number >= 0, got {noise!r}")
    return float(noise)


def make_moons(n_samples: int = 100, noise: float = 0.0, shuffle: bool = True,
               generator: Optional[Generator] = None, seed: Optional[int] = None):
    """Two interleaving half circles: class 0 is (cos t, sin t), class 1 is (1 - cos t, 0.5 - sin t)
    for t evenly spaced in [0, pi] (n//2 points in class 0, the rest in class 1), plus Gaussian
    noise of standard deviation ``noise``. Returns X (n, 2) float32 and y (n,) int64."""
    gen = _generator(generator, seed, "make_moons")
    n = _positive_count(n_samples, "make_moons")
    noise = _check_noise(noise, "make_moons")
    n_out = n // 2
    n_in = n - n_out
    t_out, t_in = np.linspace(0, math.pi, n_out), np.linspace(0, math.pi, n_in)
    x = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], 1)])
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    if noise > 0:
        x = x + noise * _normal((n, 2), gen)
    return _finish(x, y, gen, shuffle)


def make_blobs(n_samples: int = 100, centers: Union[int, Sequence[Sequence[float]]] = 3, n_features: int = 2,
               cluster_std: float = 1.0, center_box: Tuple[float, float] = (-10.0, 10.0), shuffle: bool = True,
               generator: Optional[Generator] = None, seed: Optional[int] = None):
    """Gaussian blobs: ``centers`` given as a list of points, or that many drawn uniformly from
    ``center_box`` in each of n_features dims; sample i belongs to blob i % k (so the classes are
    as equal as possible) and is its centre plus N(0, cluster_std^2) noise.
    Returns X (n, n_features) float32 and y (n,) int64."""
    gen = _generator(generator, seed, "make_blobs")
    n = _positive_count(n_samples, "make_blobs")
    if isinstance(centers, bool):
        raise TypeError("make_blobs: centers must be an int or a list of points")
    if isinstance(centers, int):
        k = _positive_count(centers, "make_blobs")
        n_features = _positive_count(n_features, "make_blobs")
        low, high = center_box
        centre = low + (high - low) * rand(k, n_features, generator=gen, dtype=_F64).numpy()
    else:
        centre = np.asarray(centers, dtype=np.float64)
        if centre.ndim != 2 or centre.shape[0] < 1:
            raise ValueError(f"make_blobs: centers must be an int or a (k, n_features) list of points, got shape "
                             f"{centre.shape}")
    _check_noise(cluster_std, "make_blobs")
    y = np.arange(n) % centre.shape[0]
    x = centre[y] + cluster_std * _normal((n, centre.shape[1]), gen)
    return _finish(x, y, gen, shuffle)


def make_spirals(n_samples: int = 300, classes: int = 3, noise: float = 0.2, shuffle: bool = True, generator: Optional[Generator] = None, seed: Optional[int] = None):
    """``classes`` interleaved spiral arms (CS231n's set): arm j has points at radius r evenly in
    [0, 1] and angle t = 4 j + 4 r (radians) plus N(0, noise^2) jitter, placed at r (sin t, cos t).
    n_samples is split as evenly as possible. Returns X (n, 2) float32 and y (n,) int64."""
    gen = _generator(generator, seed, "make_spirals")
    n = _positive_count(n_samples, "make_spirals")
    k = _positive_count(classes, "make_spirals")
    noise = _check_noise(noise, "make_spirals")
    y = np.arange(n) % k
    # position of each sample along its arm, evenly spaced per class
    r = np.empty(n)
    for j in range(k):
        members = np.flatnonzero(y == j)
        r[members] = np.linspace(0.0, 1.0, len(members))
    t = 4.0 * y + 4.0 * r + noise * _normal((n,), gen)
    x = np.stack([r * np.sin(t), r * np.cos(t)], 1)
    return _finish(x, y, gen, shuffle)
