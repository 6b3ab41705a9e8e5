"""Every SIMD path this CPU supports (gdcore._core.simd_paths()) gives the right answers.

The dispatched kernels are the SGD update (plain, weight decay, maximize, momentum with
dampening or nesterov), Adam/AdamW (amsgrad, maximize, weight decay) and mse_loss with its
gradient (the fused one-pass forward, and the plain passes). Each is run through the public
API on sizes with odd tails, in float32 and float64, and compared with

- a numpy reference of torch's formulas, within a few units of rounding of the terms
  involved (the bound is the formula evaluated on absolute values: FMA paths round a
  multiply-add once where the reference rounds twice);
- the scalar path;
- itself with one and with two threads (bit for bit: the split must not change a result).

MSE gradients involve no multiply-add, so they are compared bit for bit.
"""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import gdcore
from gdcore import _core, optim

PATHS = _core.simd_paths()
SIZES = [1, 7, 15, 17, 1000, 2**17 + 3]
DTYPES = {gdcore.float32: np.float32, gdcore.float64: np.float64}


def arrays(n, np_dtype, seed, count):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=n).astype(np_dtype) for _ in range(count)]


def assert_rounding_close(got, ref, magnitude, np_dtype, what, ulps=8):
    """|got - ref| <= ulps * eps * magnitude elementwise (magnitude: the formula on absolute values)."""
    eps = np.finfo(np_dtype).eps
    err = np.abs(got.astype(np.float64) - ref)
    bound = ulps * eps * magnitude + np.finfo(np_dtype).tiny
    worst = int(np.argmax(err - bound))
    assert (err <= bound).all(), (f"{what}: element {worst} is {got[worst]!r}, reference {ref[worst]!r} "
                                  f"(error {err[worst]:.3g} > bound {bound[worst]:.3g})")


# ---- numpy references (float64), each also evaluated on absolute values for the error bound ----

def sgd_reference(p, g, buf, cfg, absolute=False):
    """One torch.optim.SGD step; returns (param, momentum_buffer)."""
    sub = (lambda a, b: np.abs(a) + np.abs(b)) if absolute else (lambda a, b: a - b)
    lr, wd, mom = cfg["lr"], cfg.get("weight_decay", 0), cfg.get("momentum", 0)
    d = np.abs(g) if absolute else (-g if cfg.get("maximize") else g)
    if wd:
        d = d + wd * (np.abs(p) if absolute else p)
    if mom:
        buf = d if buf is None else mom * (np.abs(buf) if absolute else buf) + (1 - cfg.get("dampening", 0)) * d
        d = d + mom * buf if cfg.get("nesterov") else buf
    return sub(p, lr * d), buf


def adam_reference(p, g, m, v, vmax, step, cfg, absolute=False):
    """One torch.optim.Adam / AdamW step; returns (param, exp_avg, exp_avg_sq, max_exp_avg_sq)."""
    sub = (lambda a, b: np.abs(a) + np.abs(b)) if absolute else (lambda a, b: a - b)
    lr, (b1, b2), eps, wd = cfg["lr"], cfg.get("betas", (0.9, 0.999)), cfg.get("eps", 1e-8), cfg.get("weight_decay", 0)
    g = np.abs(g) if absolute else (-g if cfg.get("maximize") else g)
    p = np.abs(p) if absolute else p
    if cfg.get("adamw"):
        p = p * (1 - lr * wd)
    elif wd:
        g = g + wd * p
    m = b1 * (np.abs(m) if absolute else m) + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    if cfg.get("amsgrad"):
        vmax = np.maximum(vmax, v)
    denom = np.sqrt(vmax if cfg.get("amsgrad") else v) / math.sqrt(1 - b2**step) + eps
    return sub(p, lr / (1 - b1**step) * m / denom), m, v, vmax


SGD_CONFIGS = {
    "plain": dict(lr=0.1),
    "weight_decay": dict(lr=0.1, weight_decay=0.01),
    "maximize": dict(lr=0.05, maximize=True),
    "momentum": dict(lr=0.1, momentum=0.9),
    "dampening": dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01),
    "nesterov": dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
}
ADAM_CONFIGS = {
    "adam": dict(lr=0.01),
    "weight_decay": dict(lr=0.01, weight_decay=0.1),
    "adamw": dict(lr=0.01, weight_decay=0.1, adamw=True),
    "amsgrad_maximize": dict(lr=0.01, amsgrad=True, maximize=True),
}


def run_sgd(dtype, n, cfg, steps=3):
    """Runs gdcore's SGD and checks every step against the reference; returns the final param."""
    np_dtype = DTYPES[dtype]
    p0, *grads = arrays(n, np_dtype, seed=n, count=1 + steps)
    p = gdcore.tensor(p0, dtype=dtype, requires_grad=True)
    opt = optim.SGD([p], **cfg)
    buf = None
    for k, g in enumerate(grads):
        before = p.detach().numpy().astype(np.float64)
        p.grad = gdcore.tensor(g, dtype=dtype)
        opt.step()
        ref, ref_buf = sgd_reference(before, g.astype(np.float64), buf, cfg)
        mag, mag_buf = sgd_reference(before, g.astype(np.float64), buf, cfg, absolute=True)
        assert_rounding_close(p.detach().numpy(), ref, mag, np_dtype, f"param after step {k + 1}")
        if cfg.get("momentum"):
            got_buf = opt.state[p]["momentum_buffer"].numpy()
            assert_rounding_close(got_buf, ref_buf, mag_buf, np_dtype, f"momentum buffer after step {k + 1}")
            buf = got_buf.astype(np.float64)  # go on from gdcore's state: each step is checked on its own
    return p.detach().numpy().copy()


def run_adam(dtype, n, cfg, steps=3):
    """Runs gdcore's Adam/AdamW and checks every step against the reference; returns the final param."""
    np_dtype = DTYPES[dtype]
    p0, *grads = arrays(n, np_dtype, seed=n + 1, count=1 + steps)
    p = gdcore.tensor(p0, dtype=dtype, requires_grad=True)
    kwargs = {k: v for k, v in cfg.items() if k != "adamw"}
    opt = (optim.AdamW if cfg.get("adamw") else optim.Adam)([p], **kwargs)
    m = v = vmax = np.zeros(n)
    for step, g in enumerate(grads, start=1):
        before = p.detach().numpy().astype(np.float64)
        p.grad = gdcore.tensor(g, dtype=dtype)
        opt.step()
        g64 = g.astype(np.float64)
        ref = adam_reference(before, g64, m, v, vmax, step, cfg)
        mag = adam_reference(before, g64, m, v, vmax, step, cfg, absolute=True)
        state = opt.state[p]
        got = [p.detach().numpy(), state["exp_avg"].numpy(), state["exp_avg_sq"].numpy()]
        if cfg.get("amsgrad"):
            got.append(state["max_exp_avg_sq"].numpy())
        for name, x, r, a in zip(["param", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"], got, ref, mag):
            assert_rounding_close(x, r, a, np_dtype, f"{name} after step {step}", ulps=16)
        m, v = got[1].astype(np.float64), got[2].astype(np.float64)
        vmax = got[3].astype(np.float64) if cfg.get("amsgrad") else vmax
    return p.detach().numpy().copy()


@pytest.mark.parametrize("dtype", list(DTYPES), ids=str)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("config", list(SGD_CONFIGS))
def test_sgd_matches_reference_and_scalar_path(on_path, dtype, n, config):
    got = run_sgd(dtype, n, SGD_CONFIGS[config])
    _core._set_simd_path("scalar")
    scalar = run_sgd(dtype, n, SGD_CONFIGS[config])
    magnitude = np.abs(scalar.astype(np.float64)) + 1.0  # three steps of lr <= 0.1 on N(0, 1) data
    assert_rounding_close(got, scalar.astype(np.float64), magnitude, DTYPES[dtype], "vs the scalar path")


@pytest.mark.parametrize("dtype", list(DTYPES), ids=str)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("config", list(ADAM_CONFIGS))
def test_adam_matches_reference_and_scalar_path(on_path, dtype, n, config):
    got = run_adam(dtype, n, ADAM_CONFIGS[config])
    _core._set_simd_path("scalar")
    scalar = run_adam(dtype, n, ADAM_CONFIGS[config])
    magnitude = np.abs(scalar.astype(np.float64)) + 0.1  # three Adam steps move a parameter by <= 3 lr
    assert_rounding_close(got, scalar.astype(np.float64), magnitude, DTYPES[dtype], "vs the scalar path", ulps=16)


# ---- mse_loss ---------------------------------------------------------------------------

def exact_sum_of_squares(x, y):
    d = x.astype(np.float64) - y.astype(np.float64)  # exact for float32 inputs
    return math.fsum(d * d)


def check_mse(dtype, n, reduction):
    """mse_loss and its gradient against numpy; returns (loss bits, input grad bits)."""
    np_dtype = DTYPES[dtype]
    xa, ya, ga = arrays(n, np_dtype, seed=7 * n, count=3)
    x = gdcore.tensor(xa, dtype=dtype, requires_grad=True)
    y = gdcore.tensor(ya, dtype=dtype, requires_grad=True)
    loss = gdcore.mse_loss(x, y, reduction=reduction)
    diff = xa - ya  # in the tensors' dtype, as the kernels compute it
    if reduction == "none":
        np.testing.assert_array_equal(loss.detach().numpy(), diff * diff)
        loss.backward(gdcore.tensor(ga, dtype=dtype))
        expected_grad = (np_dtype(2.0) * diff) * ga
    else:
        total = exact_sum_of_squares(xa, ya)
        want = total / n if reduction == "mean" else total
        if dtype == gdcore.float32:
            np.testing.assert_array_max_ulp(np.float32(loss.item()), np.float32(want), maxulp=1)
        else:
            assert loss.item() == pytest.approx(want, rel=1e-13)
        (loss * 3.0).backward()  # an upstream gradient other than 1
        scale = np_dtype(2.0 / n if reduction == "mean" else 2.0)
        expected_grad = (scale * diff) * np_dtype(3.0)
    np.testing.assert_array_equal(x.grad.numpy(), expected_grad)
    np.testing.assert_array_equal(y.grad.numpy(), -expected_grad)
    return loss.detach().numpy().copy(), x.grad.numpy().copy()


@pytest.mark.parametrize("dtype", list(DTYPES), ids=str)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_numpy_and_scalar_path(on_path, dtype, n, reduction):
    loss, grad = check_mse(dtype, n, reduction)
    _core._set_simd_path("scalar")
    scalar_loss, scalar_grad = check_mse(dtype, n, reduction)
    np.testing.assert_array_equal(grad, scalar_grad)
    if reduction == "none":
        np.testing.assert_array_equal(loss, scalar_loss)
    else:  # sums are added in a different order per vector width
        np.testing.assert_allclose(loss, scalar_loss, rtol=1e-6 if dtype == gdcore.float32 else 1e-13)


def test_mse_gradient_of_a_retained_graph_is_recomputed(on_path):
    xa, ya = arrays(2**17 + 3, np.float32, seed=11, count=2)
    x, y = gdcore.tensor(xa, requires_grad=True), gdcore.tensor(ya)
    loss = gdcore.mse_loss(x, y)
    loss.backward(retain_graph=True)  # hands over the gradient the forward made
    loss.backward()  # must compute it again, not reuse the memory that became x.grad
    once = (np.float32(2.0 / xa.size) * (xa - ya))
    np.testing.assert_array_equal(x.grad.numpy(), once + once)


def test_results_do_not_depend_on_the_thread_count(on_path):
    n = _core._kernel_parallel_min() + 3  # large enough to be split, with a tail
    results = []
    for threads in (1, 2):
        _core._set_kernel_threads(threads)
        loss, grad = check_mse(gdcore.float32, n, "mean")
        sgd = run_sgd(gdcore.float32, n, SGD_CONFIGS["nesterov"])
        adam = run_adam(gdcore.float32, n, ADAM_CONFIGS["amsgrad_maximize"])
        results.append([loss, grad, sgd, adam])
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


def test_mse_sum_is_the_same_from_run_to_run():
    xa, ya = arrays(2**20 + 5, np.float32, seed=5, count=2)
    x, y = gdcore.tensor(xa), gdcore.tensor(ya)
    first = gdcore.mse_loss(x, y, reduction="sum").item()
    assert all(gdcore.mse_loss(x, y, reduction="sum").item() == first for _ in range(5))


# ---- choosing a path ----------------------------------------------------------------------

def test_the_default_path_is_the_best_supported_one():
    assert PATHS[0] == "scalar"
    if "GDCORE_SIMD" not in os.environ:
        assert _core.simd_path() == PATHS[-1]


def test_bad_path_names_are_refused_with_the_supported_list():
    with pytest.raises(ValueError, match=r"'sse'.*avx512, avx2, scalar, auto.*supports: scalar"):
        _core._set_simd_path("sse")
    for name in {"avx2", "avx512"} - set(PATHS):  # whatever this CPU lacks
        with pytest.raises(ValueError, match=f"'{name}' but this CPU cannot run"):
            _core._set_simd_path(name)
    with pytest.raises(ValueError, match="1..64, got 0"):
        _core._set_kernel_threads(0)


def import_with(env_value):
    env = dict(os.environ, GDCORE_SIMD=env_value)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(gdcore.__file__)), env.get("PYTHONPATH", "")])
    code = "import gdcore._core as c; print(c.simd_path())"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_environment_variable_chooses_the_path_at_import():
    done = import_with("SCALAR")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "scalar"
    done = import_with("auto")
    assert done.stdout.strip() == PATHS[-1]


def test_environment_variable_with_a_bad_value_fails_the_import():
    done = import_with("avx9000")
    assert done.returncode != 0
    assert "ImportError" in done.stderr and "GDCORE_SIMD='avx9000' is not a SIMD path" in done.stderr
