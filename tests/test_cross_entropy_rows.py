"""cross_entropy's short rows (kernels/simd/softmax_loops.hpp short_rows_exp_loop): rows of at most one
vector of classes (a classifier's 5) go through one kernel call for many rows instead of the one-row
kernels row by row. Every loss and gradient bit must be the one-row kernels' (the old path, reached
here through `_cross_entropy_rows(..., one_by_one=True)`), on every SIMD path, for float32 and float64,
class counts 1..33 around each vector width, weights, ignore_index, label smoothing and the edge
values; and both must agree with an independent numpy computation in the same order (float64 sums)."""
import math

import numpy as np
import pytest

import gdcore
from gdcore import _core

DTYPES = [np.float32, np.float64]


def _bits(a):
    return np.ascontiguousarray(np.asarray(a)).tobytes()


def _logits(rng, m, c, dtype, edges):
    x = (rng.standard_normal((m, c)) * 3).astype(dtype)
    if edges and m >= 8:
        x[1, 0] = np.nan            # a NaN row
        x[2, :] = -np.inf           # every logit -inf: no shift
        x[3, c - 1] = np.inf        # a +inf logit
        x[4, :] = 0.0
        x[4, c // 2] = -0.0         # signed zeros tie for the maximum
        x[5, :] = 1e4               # large logits (the shift keeps them finite)
        x[6, 0] = -1e4
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c", range(1, 34))
def test_short_rows_match_the_one_row_kernels(on_path, dtype, c):
    rng = np.random.default_rng(c)
    for m, weighted, eps, edges in [(37, False, 0.0, True), (70, True, 0.1, True), (5, False, 0.0, False),
                                    (130, True, 0.0, False)]:
        x = _logits(rng, m, c, dtype, edges)
        t = rng.integers(0, c, m)
        t[0] = -100  # an ignored row
        w = gdcore.tensor(rng.random(c).astype(dtype)) if weighted else None
        args = dict(weight=w, label_smoothing=eps, scale=1.0 / m)
        X, T = gdcore.tensor(x), gdcore.tensor(t)
        for with_grad in (True, False):
            new = _core._cross_entropy_rows(X, T, with_grad=with_grad, **args)
            old = _core._cross_entropy_rows(X, T, with_grad=with_grad, one_by_one=True, **args)
            assert _bits(new[0].numpy()) == _bits(old[0].numpy()), (m, c, weighted, eps)
            if with_grad:
                assert _bits(new[1].numpy()) == _bits(old[1].numpy()), (m, c, weighted, eps)
            else:
                assert new[1] is None and old[1] is None


def _numpy_rows(x, t, scale, exp):
    """Loss and gradient per row in the kernels' order: shift by the running maximum, exponentials
    in the input's dtype (`exp`: the path's exp), their sum in float64 from 0 in order, libm's log."""
    m, c = x.shape
    loss = np.zeros(m)
    grad = np.zeros_like(x)
    for i in range(m):
        mx = x.dtype.type(-np.inf)
        for j in range(c):
            mx = x[i, j] if x[i, j] > mx else mx
        if np.isinf(mx):
            mx = x.dtype.type(0)
        e = exp((x[i] - mx).astype(x.dtype))
        s = 0.0
        for j in range(c):
            s += float(e[j])
        lse = float(mx) + np.log(s)
        loss[i] = 1.0 * 1.0 * (lse - float(x[i, t[i]]))
        a = x.dtype.type(float(scale) * (1.0 * 1.0 + 0.0 * c) / s)
        grad[i] = a * e
        grad[i, t[i]] -= x.dtype.type(float(scale) * 1.0 * 1.0)
    return loss, grad


@pytest.mark.parametrize("dtype", DTYPES)
def test_short_rows_match_numpy_in_the_same_order(on_path, dtype):
    # The short-row order (one element at a time) holds up to one vector of classes (7 on the scalar path):
    # every class count of the list up to the path's width, which longer rows leave for the one-row kernels.
    lanes = {"scalar": 7, "avx2": 32, "avx512": 64}[on_path] // (1 if on_path == "scalar" else np.dtype(dtype).itemsize)
    # The path's exp: the float polynomial of the SIMD kernels (its own tests measure it), libm's for
    # double (math.exp; numpy's own float64 exp may differ from libm's in the last bit).
    exp = (lambda v: _core._simd_exp(v)) if dtype == np.float32 else (
        lambda v: np.array([math.exp(float(u)) for u in v]))
    counts = [c for c in (1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17) if c <= lanes]
    assert counts[-1] == min(lanes, 17)
    for c in counts:
        rng = np.random.default_rng(100 + c)
        m = 33
        x = _logits(rng, m, c, dtype, edges=False)
        t = rng.integers(0, c, m)
        scale = dtype(1.0 / m)
        loss, grad = _core._cross_entropy_rows(gdcore.tensor(x), gdcore.tensor(t), scale=float(scale))
        want_loss, want_grad = _numpy_rows(x, t, scale, exp)
        assert _bits(loss.numpy()) == _bits(want_loss), c
        assert _bits(grad.numpy()) == _bits(want_grad), c


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_op_on_short_rows_matches_the_one_row_kernels(on_path, reduction, dtype):
    """The op's loss and gradient (fused forward gradient) against the hook's one-row kernels."""
    rng = np.random.default_rng(7)
    m, c = 32, 5
    x = _logits(rng, m, c, dtype, edges=False)
    t = rng.integers(0, c, m)
    t[3] = -100
    X = gdcore.tensor(x, requires_grad=True)
    loss = gdcore.nn.functional.cross_entropy(X, gdcore.tensor(t), ignore_index=-100, reduction=reduction)
    loss.sum().backward() if reduction == "none" else loss.backward()
    kept = float(np.sum(t != -100))
    scale = 1.0 / kept if reduction == "mean" else 1.0
    rows, grad = _core._cross_entropy_rows(gdcore.tensor(x), gdcore.tensor(t), scale=scale, one_by_one=True)
    rows = rows.numpy()
    want = rows.astype(dtype) if reduction == "none" else dtype(sum(rows) / kept if reduction == "mean" else sum(rows))
    assert _bits(loss.detach().numpy()) == _bits(np.asarray(want, dtype=dtype))
    assert _bits(X.grad.numpy()) == _bits(grad.numpy())


def test_non_contiguous_logits_and_bad_targets():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 12)).astype(np.float32)
    t = rng.integers(0, 5, 12)
    # (12, 5) logits as a transposed view: the op makes the rows contiguous first, same bits.
    a = gdcore.nn.functional.cross_entropy(gdcore.tensor(x).t(), gdcore.tensor(t))
    b = gdcore.nn.functional.cross_entropy(gdcore.tensor(np.ascontiguousarray(x.T)), gdcore.tensor(t))
    assert _bits(a.numpy()) == _bits(b.numpy())
    with pytest.raises(IndexError):
        gdcore.nn.functional.cross_entropy(gdcore.tensor(x.T.copy()), gdcore.tensor(np.full(12, 5)))
    with pytest.raises(ValueError):
        _core._cross_entropy_rows(gdcore.tensor(x).t(), gdcore.tensor(t))  # the hook wants contiguous rows
    with pytest.raises(IndexError):
        _core._cross_entropy_rows(gdcore.tensor(x.T.copy()), gdcore.tensor(np.full(12, -1)))


def test_gradcheck_float64_short_rows():
    rng = np.random.default_rng(9)
    x = gdcore.tensor(rng.standard_normal((9, 5)), requires_grad=True)
    t = gdcore.tensor(rng.integers(0, 5, 9))
    w = gdcore.tensor(rng.random(5))
    assert gdcore.autograd.gradcheck(
        lambda x: gdcore.nn.functional.cross_entropy(x, t, weight=w, label_smoothing=0.2), (x,))
