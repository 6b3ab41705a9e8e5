"""The gradient descent chapter's iterates, from gdcore.optimize, against plain Python loops with
hand-written derivatives (float64, compared to 1e-9) and against the numbers the chapter prints."""
import math
import warnings

import numpy as np
import pytest

import gdcore
from gdcore import optimize

C = 0.15 * math.pi
TOL = dict(rtol=1e-9, atol=1e-9)


def loop(update, x, steps):
    """x_0 .. x_steps of x <- update(x), a plain Python loop."""
    xs = [x]
    for _ in range(steps):
        x = update(x)
        xs.append(x)
    return xs


@pytest.mark.parametrize("lr, printed", [(0.2, "0.060466"), (0.05, "3.486784"), (1.1, "61.917364")])
def test_gd_on_x_squared_matches_the_chapter(lr, printed):
    result = optimize.gd(lambda x: x ** 2, 10.0, lr, steps=10)
    expected = loop(lambda x: x - lr * 2 * x, 10.0, 10)
    np.testing.assert_allclose(result.trace.x, expected, **TOL)
    np.testing.assert_allclose(result.trace.fx, [x * x for x in expected], **TOL)
    np.testing.assert_allclose(result.trace.lr, [lr] * 10, rtol=0, atol=0)
    assert isinstance(result.x, float) and result.x == result.trace.x[-1]
    assert result.iterations == 10 and not result.converged and not result.diverged
    assert f"{result.x:f}" == printed  # `epoch 10, x: ...` as the chapter prints it


def test_lr_1_1_on_x_squared_grows_and_a_long_run_is_flagged_diverged():
    short = optimize.gd(lambda x: x ** 2, 10.0, 1.1, steps=10)
    sizes = np.abs(short.trace.x)
    np.testing.assert_allclose(sizes[1:] / sizes[:-1], 1.2, rtol=1e-12)  # |1 - 2 lr| = 1.2 per step
    assert not short.diverged
    with pytest.warns(RuntimeWarning, match=r"gd diverged at step (\d+) with lr=1.1"):
        long = optimize.gd(lambda x: x ** 2, 10.0, 1.1, steps=500)
    # max_norm defaults to 1e6 * max(1, |x0|) = 1e7: the first k with 10 * 1.2^k > 1e7
    first = next(k for k in range(500) if 10 * 1.2 ** k > 1e7)
    assert long.diverged and not long.converged and long.iterations == first
    np.testing.assert_allclose(long.trace.x, loop(lambda x: x - 2.2 * x, 10.0, first), rtol=1e-9)


def test_gd_finds_the_local_minimum_of_x_cos_cx():
    grad = lambda x: math.cos(C * x) - C * x * math.sin(C * x)  # noqa: E731
    result = optimize.gd(lambda x: x * gdcore.cos(C * x), 10.0, 2, steps=10)
    expected = loop(lambda x: x - 2 * grad(x), 10.0, 10)
    np.testing.assert_allclose(result.trace.x, expected, **TOL)
    np.testing.assert_allclose(result.trace.fx, [x * math.cos(C * x) for x in expected], **TOL)
    assert f"{result.x:f}" == "-1.528166"


def test_gd_in_two_dimensions():
    result = optimize.gd(lambda x: x[0] ** 2 + 2 * x[1] ** 2, [-5.0, -2.0], 0.1, steps=20)
    expected = loop(lambda p: (p[0] - 0.1 * 2 * p[0], p[1] - 0.1 * 4 * p[1]), (-5.0, -2.0), 20)
    assert result.trace.x.shape == (21, 2) and result.x.shape == (2,)
    np.testing.assert_allclose(result.trace.x, expected, **TOL)
    np.testing.assert_allclose(result.trace.fx, [a * a + 2 * b * b for a, b in expected], **TOL)
    assert f"epoch 20, x1: {result.x[0]:f}, x2: {result.x[1]:f}" == "epoch 20, x1: -0.057646, x2: -0.000073"


def test_gd_accepts_a_tensor_start_and_keeps_float64():
    x0 = gdcore.tensor([-5.0, -2.0])  # float32 in: the run still works in float64
    result = optimize.gd(lambda x: x[0] ** 2 + 2 * x[1] ** 2, x0, 0.1, steps=3)
    assert result.trace.x.dtype == np.float64
    np.testing.assert_allclose(result.trace.x[-1], [-5.0 * 0.8 ** 3, -2.0 * 0.6 ** 3], **TOL)


def test_newton_on_cosh():
    c = 0.5
    result = optimize.newton(lambda x: gdcore.cosh(c * x), 10.0, steps=10)
    step = lambda x: x - (c * math.sinh(c * x)) / (c * c * math.cosh(c * x))  # noqa: E731
    np.testing.assert_allclose(result.trace.x, loop(step, 10.0, 10), **TOL)
    assert abs(result.x) < 1e-12  # the chapter prints `epoch 10, x: tensor(0.)`


@pytest.mark.parametrize("eta, printed", [(1.0, "26.8341"), (0.5, "7.2699")])
def test_newton_on_the_nonconvex_x_cos_cx(eta, printed):
    grad = lambda x: math.cos(C * x) - C * x * math.sin(C * x)  # noqa: E731
    hess = lambda x: -2 * C * math.sin(C * x) - x * C * C * math.cos(C * x)  # noqa: E731
    result = optimize.newton(lambda x: x * gdcore.cos(C * x), 10.0, eta, steps=10)
    np.testing.assert_allclose(result.trace.x, loop(lambda x: x - eta * grad(x) / hess(x), 10.0, 10), **TOL)
    assert f"{result.x:.4f}" == printed
    np.testing.assert_allclose(result.trace.lr, [eta] * 10, rtol=0, atol=0)


def test_chapter_runs_raise_no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimize.gd(lambda x: x ** 2, 10.0, 0.2, steps=10)
        optimize.newton(lambda x: gdcore.cosh(0.5 * x), 10.0, steps=10)
