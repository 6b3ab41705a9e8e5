"""gdcore.optimize on bad runs and bad input: divergence is flagged with a warning that names the
step and the step size, a singular Hessian stops Newton, and wrong arguments give clear errors."""
import math

import numpy as np
import pytest

import gdcore
from gdcore import optimize


def test_divergence_warning_names_the_step_and_the_learning_rate():
    # x^4 with lr 1 from 10: x1 = 10 - 4000 = -3990, x2 = -3990 + 4 * 3990^3 > 1e7 (the default max_norm)
    with pytest.warns(RuntimeWarning, match=r"gd diverged at step 2 with lr=1: .*try a smaller lr \(e\.g\. lr=0\.5\)"):
        result = optimize.gd(lambda x: x ** 4, 10.0, 1.0, steps=50)
    assert result.diverged and not result.converged and result.iterations == 2
    assert "step 2" in result.reason and "lr=1" in result.reason
    assert result.trace.x[1] == -3990.0 and result.trace.x[2] == -3990.0 + 4 * 3990.0 ** 3


def test_a_non_finite_iterate_stops_the_run():
    with pytest.warns(RuntimeWarning, match=r"diverged at step 3 with lr=0\.1: the iterate became non-finite"):
        result = optimize.gd(lambda x: x ** 2, 1.0, 0.1, steps=10,
                             grad=lambda x: math.nan if float(x) < 0.7 else 2 * float(x))
    assert result.diverged and result.iterations == 3 and math.isnan(result.trace.x[-1])


def test_a_non_finite_f_stops_the_run():
    # sqrt(x) has a finite gradient at 1 but is nan once x < 0
    with pytest.warns(RuntimeWarning, match=r"step 1 with lr=5: f\(x\) became nan"):
        result = optimize.gd(lambda x: gdcore.sqrt(x), 1.0, 5.0, steps=3)
    assert result.diverged and result.iterations == 1


def test_max_norm_sets_the_divergence_threshold():
    with pytest.warns(RuntimeWarning, match=r"step 4 with lr=1\.1: \|x\| = 20\.7 exceeded max_norm=20"):
        result = optimize.gd(lambda x: x ** 2, 10.0, 1.1, steps=10, max_norm=20)
    assert result.diverged and result.iterations == 4  # 10 * 1.2^4 = 20.7


def test_newton_warning_names_eta_and_sgd_with_schedule_names_the_rate():
    with pytest.warns(RuntimeWarning, match=r"newton stopped at step 1: the Hessian is singular"):
        result = optimize.newton(lambda x: x[0] ** 2 + x[1], [1.0, 1.0], steps=5)
    assert not result.diverged and not result.converged and "singular" in result.reason
    with pytest.warns(RuntimeWarning, match=r"sgd diverged at step \d+ with lr=3: .*schedule that starts lower"):
        optimize.sgd(lambda x: x ** 2, 1.0, schedule=lambda t: 3.0, noise=0.0, steps=100)


def test_tolerance_stops_and_reports_convergence():
    result = optimize.gd(lambda x: (x - 2) ** 2, 10.0, 0.25, tol=1e-10)
    assert result.converged and not result.diverged and abs(result.x - 2) <= 1e-10
    assert "tol=1e-10" in result.reason
    start = optimize.gd(lambda x: (x - 2) ** 2, 2.0, 0.25, tol=1e-10)  # already there: no step
    assert start.converged and start.iterations == 0 and start.trace.x.shape == (1,)
    capped = optimize.gd(lambda x: (x - 2) ** 2, 10.0, 0.25, steps=3, tol=1e-10)
    assert not capped.converged and capped.iterations == 3 and "3 requested steps" in capped.reason


@pytest.mark.parametrize("call, error, message", [
    (lambda: optimize.gd(lambda x: x ** 2, 1.0, 0.1), ValueError, "pass steps="),
    (lambda: optimize.gd(lambda x: x ** 2, 1.0, -0.1, steps=3), ValueError, "lr must be a positive finite"),
    (lambda: optimize.gd(lambda x: x ** 2, 1.0, 0.1, steps=-1), ValueError, "steps must be a non-negative"),
    (lambda: optimize.gd(lambda x: x ** 2, 1.0, 0.1, tol=-1.0), ValueError, "tol must be"),
    (lambda: optimize.gd(lambda x: x ** 2, [[1.0, 2.0]], 0.1, steps=3), ValueError, r"got shape \(1, 2\)"),
    (lambda: optimize.gd(lambda x: x ** 2, [], 0.1, steps=3), ValueError, "x0 is empty"),
    (lambda: optimize.gd(lambda x: x ** 2, math.inf, 0.1, steps=3), ValueError, "x0 must be finite"),
    (lambda: optimize.gd(lambda x: x ** 2, "one", 0.1, steps=3), TypeError, "x0 must be a number"),
    (lambda: optimize.gd(lambda x: x * 2, [1.0, 2.0], 0.1, steps=3), ValueError,
     r"one number, got a tensor of shape \(2,\)"),
    (lambda: optimize.gd(lambda x: math.cos(x), 1.0, 0.1, steps=3), TypeError, "pass grad="),
    (lambda: optimize.gd(lambda x: (x ** 2).sum(), [1.0, 2.0], 0.1, steps=3, grad=lambda x: [1.0]), ValueError,
     r"grad must give 2 value"),
    (lambda: optimize.gd(3.0, 1.0, 0.1, steps=3), TypeError, "f must be a function"),
    (lambda: optimize.newton(lambda x: (x ** 2).sum(), [1.0, 2.0], steps=3, hess=lambda x: [1.0, 2.0]), ValueError,
     r"hess must give an \(2, 2\) matrix"),
    (lambda: optimize.newton(lambda x: x ** 2, 1.0, eta=0, steps=3), ValueError, "eta must be"),
    (lambda: optimize.sgd(lambda x: x ** 2, 1.0, steps=3), ValueError, "exactly one"),
    (lambda: optimize.sgd(lambda x: x ** 2, 1.0, 0.1, schedule=lambda t: 0.1, steps=3), ValueError, "exactly one"),
    (lambda: optimize.sgd(lambda x: x ** 2, 1.0, 0.1, noise=-1, steps=3), ValueError, "noise must be"),
    (lambda: optimize.sgd(lambda x: x ** 2, 1.0, schedule=lambda t: -0.1, steps=3), ValueError, r"schedule\(0\) gave"),
    (lambda: optimize.gd_line_search(lambda x: x ** 2, 1.0, steps=3, c=1.5), ValueError, "c must be a number"),
    (lambda: optimize.conjugate_gradient(lambda x: x ** 2, 1.0, "hestenes", steps=3), ValueError, "variant must be"),
    (lambda: optimize.conjugate_gradient(lambda x: x ** 2, 1.0, steps=3, line_search="wolfe"), ValueError,
     "line_search must be"),
    (lambda: optimize.gd(lambda x: gdcore.log(x), -1.0, 0.1, steps=3), ValueError, r"f\(x0\) = nan is not finite"),
])
def test_bad_arguments_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_exact_cg_line_search_refuses_negative_curvature():
    with pytest.warns(RuntimeWarning, match="curvature d.H.d = -8 .* is not positive"):
        result = optimize.conjugate_gradient(lambda x: -x ** 2, 1.0, steps=3, line_search="exact")
    assert result.iterations == 0 and not result.converged


def test_line_search_that_finds_no_descent_step_stops_with_a_warning():
    # a wrong hand-written gradient (sign flipped): every step along -grad goes uphill
    with pytest.warns(RuntimeWarning, match=r"gd_line_search stopped at step 1: no step .* check grad="):
        result = optimize.gd_line_search(lambda x: (x - 1) ** 2, 3.0, steps=20, grad=lambda x: -2 * (x - 1))
    assert not result.converged and result.iterations == 0 and result.x == 3.0


def test_result_repr_is_one_readable_line():
    result = optimize.gd(lambda x: x[0] ** 2 + x[1] ** 2, [1.0, 1.0], 0.25, steps=2)
    text = repr(result)
    assert text.startswith("OptimizeResult(method='gd', x=[0.25 0.25]") and "iterations=2" in text
    assert np.array_equal(result.trace.lr, [0.25, 0.25])
