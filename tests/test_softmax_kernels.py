"""The softmax-row kernels behind cross_entropy (kernels/simd/softmax_loops.hpp) on every SIMD path.

- The polynomial float exp against numpy's float64 exp over the whole float range (a stride through
  all 2^32 bit patterns, a dense sample of [-104, 89], and the special values): at most 1.5 units in
  the last place of the exact value for normal results, at most one unit of the smallest subnormal
  below them, inf above float's range, 0 for -inf, NaN for NaN.
- cross_entropy (loss and gradient, float32 and float64) against a float64 numpy computation written
  out here (log-sum-exp, softmax minus the one-hot), with weights, ignore_index, label smoothing,
  reductions, row lengths with tails, logits of +-1e4 and -inf, and NaN rows.
- Eager and compiled steps agree bit for bit on each path; one and two kernel threads agree bit for
  bit; gradcheck in float64 on each path.
"""
import numpy as np
import pytest

import gdcore
from gdcore import _core, nn, optim
from gdcore.nn import functional as F

F32 = np.finfo(np.float32)


def exp_errors(x):
    """(errors in float32 ulps where the exact exp is a normal float, errors in units of 2**-149
    where it is subnormal or zero, the inputs whose exp overflows float32) for gdcore's exp of x."""
    got = _core._simd_exp(x).astype(np.float64)
    with np.errstate(over="ignore"):
        exact = np.exp(x.astype(np.float64))
    over = exact > F32.max
    normal = ~over & (exact >= F32.tiny)
    ulp = np.spacing(exact[normal].astype(np.float32)).astype(np.float64)
    tiny = ~over & ~normal
    return (np.abs(got[normal] - exact[normal]) / ulp, np.abs(got[tiny] - exact[tiny]) / 2.0**-149,
            got[over])


def test_float_exp_error_over_the_whole_float_range(on_path):
    every = np.arange(0, 2**32, 4099, dtype=np.uint64).astype(np.uint32).view(np.float32)
    dense = np.random.default_rng(0).uniform(-104.5, 89.0, 2_000_000).astype(np.float32)
    x = np.concatenate([every[~np.isnan(every)], dense])
    normal, tiny, over = exp_errors(x)
    assert normal.max() <= 1.5, f"{on_path}: {normal.max():.3f} ulp"
    assert tiny.max() <= 1.0, f"{on_path}: {tiny.max():.3f} units of 2**-149"
    assert np.isinf(over).all() and (over > 0).all()


def test_float_exp_special_values(on_path):
    x = np.array([np.nan, -np.inf, np.inf, 0.0, -0.0, -1e30, 1e30, -104.0, -103.97, 88.72, 88.73], np.float32)
    got = _core._simd_exp(x)
    assert np.isnan(got[0])
    assert got[1] == 0.0 and got[2] == np.inf and got[3] == 1.0 and got[4] == 1.0
    assert got[5] == 0.0 and got[6] == np.inf and got[7] == 0.0
    assert 0 < got[8] < F32.tiny  # a subnormal, not flushed to 0
    assert np.isfinite(got[9]) and got[10] == np.inf
    # every length, so that each tail of each vector width is exercised
    for n in range(0, 40):
        v = np.linspace(-20, 20, n, dtype=np.float32)
        np.testing.assert_allclose(_core._simd_exp(v), np.exp(v.astype(np.float64)), rtol=2e-7, atol=0)


def reference(x, t, weight=None, ignore_index=-100, eps=0.0, reduction="mean"):
    """float64 numpy cross_entropy (class-index targets) and its gradient, torch's formulas."""
    x = x.astype(np.float64)
    m, c = x.shape
    w = np.ones(c) if weight is None else weight.astype(np.float64)
    keep = t != ignore_index
    tt = np.where(keep, t, 0)
    mx = np.max(np.where(np.isnan(x), -np.inf, x), axis=1, keepdims=True)
    mx = np.where(np.isfinite(mx), mx, 0.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        e = np.exp(x - mx)
        s = e.sum(axis=1, keepdims=True)
        logp = x - mx - np.log(s)
        p = e / s
        wt = w[tt] * keep
        rows = -(1 - eps) * wt * logp[np.arange(m), tt]
        if eps > 0:
            rows = rows - (eps / c) * (w * logp).sum(axis=1) * keep
        target = np.zeros((m, c))
        target[np.arange(m), tt] = (1 - eps) * wt
        target += (eps / c) * w * keep[:, None]
        grad = target.sum(axis=1, keepdims=True) * p - target
        if reduction == "none":
            return rows, grad
        if reduction == "sum":
            return rows.sum(), grad
        if wt.sum() == 0:  # every row ignored: a NaN mean (0 / 0) and a zero gradient, as torch
            return np.nan, np.zeros_like(grad)
        return rows.sum() / wt.sum(), grad / wt.sum()


def run(x, t, dtype, **kw):
    z = gdcore.tensor(x, dtype=dtype, requires_grad=True)
    loss = F.cross_entropy(z, gdcore.tensor(t), **{k: (gdcore.tensor(v, dtype=dtype) if k == "weight" else v)
                                                   for k, v in kw.items()})
    loss.backward(gdcore.ones_like(loss))
    return loss.detach().numpy().astype(np.float64), z.grad.numpy().astype(np.float64)


CASES = {
    "plain": {},
    "weight": {"weight": "w"},
    "ignore": {"ignore_index": 2},
    "smooth": {"label_smoothing": 0.1, "weight": "w"},
    "sum": {"reduction": "sum"},
    "none": {"reduction": "none"},
}


@pytest.mark.parametrize("c", [1, 5, 16, 17, 1000, 1003])
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("dtype", [gdcore.float32, gdcore.float64])
def test_cross_entropy_matches_numpy_float64(on_path, c, case, dtype):
    rng = np.random.default_rng(c)
    m = 37
    x = (rng.standard_normal((m, c)) * 4).astype(np.float32 if dtype == gdcore.float32 else np.float64)
    t = rng.integers(0, c, m)
    kw = dict(CASES[case])
    if kw.get("weight") == "w":
        kw["weight"] = rng.uniform(0.5, 2.0, c)
    if "ignore_index" in kw:
        kw["ignore_index"] = min(kw["ignore_index"], c - 1)
    loss, grad = run(x, t, dtype, **kw)
    want_loss, want_grad = reference(x, t, weight=kw.get("weight"), ignore_index=kw.get("ignore_index", -100),
                                     eps=kw.get("label_smoothing", 0.0), reduction=kw.get("reduction", "mean"))
    # float32: the exp (1.5 ulp), the lane sums of at most c / width + 8 terms, the log and the final
    # roundings: a few 1e-6 relative, on the scale of each row's terms (|loss| <= 4 * 4 * sqrt(log c) here).
    rtol, atol = (2e-5, 2e-6) if dtype == gdcore.float32 else (1e-12, 1e-14)
    np.testing.assert_allclose(loss, want_loss, rtol=rtol, atol=atol * 100)
    np.testing.assert_allclose(grad, want_grad, rtol=rtol, atol=atol)


def test_cross_entropy_extreme_logits(on_path):
    x = np.array([[1e4, -1e4, 0.0, 3.0],            # large: no overflow after the max shift
                  [-np.inf, 0.0, -np.inf, 1.0],     # -inf logits: probability 0, finite loss
                  [-1e4, -1e4 + 1, -1e4 + 2, -1e4],  # large negative: no underflow to 0/0
                  [np.nan, 0.0, 1.0, 2.0]],          # a NaN poisons its row only
                 np.float32)
    t = np.array([0, 3, 2, 1])
    loss, grad = run(x, t, gdcore.float32, reduction="none")
    want_loss, want_grad = reference(x, t, reduction="none")
    np.testing.assert_allclose(loss[:3], want_loss[:3], rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(grad[:3], want_grad[:3], rtol=2e-6, atol=1e-7)
    assert np.isnan(loss[3]) and np.isnan(grad[3]).all()


def step_results(compiled, x, t):
    gdcore.manual_seed(0)
    model = nn.Sequential(nn.Linear(x.shape[1], 64), nn.ReLU(), nn.Linear(64, 1003))
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(xb, yb):
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb, label_smoothing=0.05)
        loss.backward()
        opt.step()
        return loss
    fn = gdcore.compile(step) if compiled else step
    losses = [fn(gdcore.tensor(x), gdcore.tensor(t)).detach().numpy().tobytes() for _ in range(3)]
    if compiled:  # the later calls replayed the lowered program, not the eager step
        (capture,) = fn._captures.values()
        assert capture.program.lowering == "lowered"
    return losses, [p.detach().numpy().tobytes() for p in model.parameters()]


def test_eager_and_compiled_steps_are_bit_identical(on_path):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((33, 20)).astype(np.float32)
    t = rng.integers(0, 1003, 33)
    assert step_results(False, x, t) == step_results(True, x, t)


def test_thread_count_does_not_change_a_bit(on_path):
    rng = np.random.default_rng(4)
    rows = _core._kernel_parallel_min() // 1000 + 3  # large enough to be split over threads
    x = rng.standard_normal((rows, 1000)).astype(np.float32)
    t = rng.integers(0, 1000, rows)
    out = []
    for threads in (1, 2):
        _core._set_kernel_threads(threads)
        loss, grad = run(x, t, gdcore.float32)
        out.append((loss.tobytes(), grad.tobytes()))
    assert out[0] == out[1]


def test_gradcheck_float64(on_path):
    rng = np.random.default_rng(5)
    for shape, c in [((3, 7), 7), ((2, 5, 3), 5)]:
        x = gdcore.tensor(rng.standard_normal(shape), dtype=gdcore.float64, requires_grad=True)
        t = gdcore.tensor(rng.integers(0, c, (shape[0],) + shape[2:]))
        assert gdcore.autograd.gradcheck(lambda z: F.cross_entropy(z, t, label_smoothing=0.1), (x,))
