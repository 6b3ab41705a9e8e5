"""searchsorted, bucketize, bincount and histc (gdcore/binning.py, cpp/src/ops/bucketize.cpp)
against numpy (np.searchsorted, np.digitize, np.bincount) and plain loops, over random inputs."""
import bisect
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gdcore

SETTINGS = settings(max_examples=20, deadline=None)


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(0, 12), st.booleans())
def test_searchsorted_matches_numpy(seed, n, right):
    rng = np.random.default_rng(seed)
    seq = np.sort(rng.integers(-5, 6, n)).astype(np.float64)  # repeated values: left and right differ
    vals = rng.integers(-7, 8, (3, 4)).astype(np.float64)
    out = gdcore.searchsorted(gdcore.tensor(seq), gdcore.tensor(vals), right=right)
    assert out.dtype == gdcore.int64 and tuple(out.shape) == (3, 4)
    np.testing.assert_array_equal(out.numpy(), np.searchsorted(seq, vals, side="right" if right else "left"))
    side = gdcore.searchsorted(gdcore.tensor(seq), gdcore.tensor(vals), side="right" if right else "left")
    assert side.tolist() == out.tolist()


def test_searchsorted_batched_rows_and_int32():
    seq = gdcore.tensor([[1, 3, 5], [2, 4, 6]])
    vals = gdcore.tensor([[3, 6], [3, 7]])
    out = gdcore.searchsorted(seq, vals)
    assert out.tolist() == [[bisect.bisect_left([1, 3, 5], 3), bisect.bisect_left([1, 3, 5], 6)],
                            [bisect.bisect_left([2, 4, 6], 3), bisect.bisect_left([2, 4, 6], 7)]]
    assert gdcore.searchsorted(seq, vals, out_int32=True).dtype == gdcore.int32
    assert gdcore.searchsorted(gdcore.tensor([1.0, 3.0]), 3, right=True).tolist() == 2  # a number: 0-d


def test_searchsorted_nan_and_sorter_and_promotion():
    seq = gdcore.tensor([1.0, 3.0, 5.0, 7.0, 9.0])
    out = gdcore.searchsorted(seq, gdcore.tensor([math.nan, 10.0, 0.0]))
    assert out.tolist() == [5, 5, 0]  # NaN after everything, as torch
    unsorted = gdcore.tensor([5.0, 1.0, 9.0, 3.0])
    assert gdcore.searchsorted(unsorted, gdcore.tensor([4.0]), sorter=gdcore.argsort(unsorted)).tolist() == [2]
    assert gdcore.searchsorted(gdcore.tensor([1, 3, 5]), gdcore.tensor([3.5])).tolist() == [2]


def test_bucketize_matches_digitize():
    rng = np.random.default_rng(0)
    bounds = np.array([-1.0, 0.0, 0.5, 2.0])
    x = np.concatenate([rng.uniform(-3, 3, 40), bounds])
    for right in (False, True):
        out = gdcore.bucketize(gdcore.tensor(x), gdcore.tensor(bounds), right=right)
        # torch's right=False is numpy's digitize(right=True) and the other way round
        np.testing.assert_array_equal(out.numpy(), np.digitize(x, bounds, right=not right))
    assert gdcore.bucketize(0.2, gdcore.tensor(bounds)).tolist() == 2


def test_bincount_matches_numpy():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 7, 50)
    w = rng.normal(size=50)
    np.testing.assert_array_equal(gdcore.bincount(gdcore.tensor(x)).numpy(), np.bincount(x))
    assert gdcore.bincount(gdcore.tensor(x)).dtype == gdcore.int64
    out = gdcore.bincount(gdcore.tensor(x), weights=gdcore.tensor(w, dtype=gdcore.float64), minlength=10)
    np.testing.assert_allclose(out.numpy(), np.bincount(x, weights=w, minlength=10))
    assert gdcore.bincount(gdcore.tensor([0, 1]), gdcore.tensor([1.0, 2.0])).dtype == gdcore.float32
    assert gdcore.bincount(gdcore.tensor([0, 1]), gdcore.tensor([1, 2])).dtype == gdcore.float64
    assert gdcore.tensor([1]).bincount(minlength=4).tolist() == [0, 1, 0, 0]
    assert gdcore.bincount(gdcore.tensor([], dtype=gdcore.int64)).tolist() == []


def test_histc_matches_a_loop():
    rng = np.random.default_rng(2)
    x = rng.normal(size=200)
    lo, hi, bins = -1.0, 1.5, 7
    expected = [0.0] * bins
    for v in x:
        if lo <= v <= hi:
            expected[min(int((v - lo) * bins / (hi - lo)), bins - 1)] += 1
    out = gdcore.histc(gdcore.tensor(x, dtype=gdcore.float64), bins=bins, min=lo, max=hi)
    assert out.dtype == gdcore.float64 and out.tolist() == expected
    assert gdcore.histc(gdcore.tensor([1.0, 2.0, 1.0, 4.0]), bins=3).tolist() == [2.0, 1.0, 1.0]
    assert gdcore.histc(gdcore.tensor([2.0, 2.0]), bins=2).tolist() == [0.0, 2.0]
    assert gdcore.tensor([1.0, 2.0, 1.0, 4.0, 5.0]).histc(4, 0, 3).tolist() == [0.0, 2.0, 1.0, 0.0]
