"""Properties of gdcore.optimize's methods: Newton converges quadratically, conjugate gradient solves
an n-dim quadratic in n steps, every line-search step satisfies Armijo, preconditioning beats plain
GD on a badly scaled problem, SGD is reproducible and follows its schedule, and user-supplied
derivatives agree with the tape. Expected values come from hand-written derivatives and numpy."""
import math

import numpy as np
import pytest

import gdcore
from gdcore import optimize
from gdcore.optim import schedules


# -- Newton ------------------------------------------------------------------------------------------
def test_newton_error_ratio_is_bounded_on_a_convex_function():
    # f(x) = exp(x) - 2x: convex, minimum at ln 2; e_{k+1} / e_k^2 -> f'''/(2 f'') = 1/2
    result = optimize.newton(lambda x: gdcore.exp(x) - 2 * x, 1.5, steps=8)
    errors = np.abs(result.trace.x - math.log(2))
    ratios = [errors[k + 1] / errors[k] ** 2 for k in range(len(errors) - 1) if errors[k] > 1e-6]
    assert len(ratios) >= 3
    assert max(ratios) < 1.0
    assert abs(ratios[-1] - 0.5) < 0.05  # the asymptotic constant of quadratic convergence
    assert errors[6] < 1e-14


def test_newton_error_ratio_is_bounded_in_two_dimensions():
    # sum(exp(x_i) - 2 x_i) + (x0 - x1)^2: convex, minimum at (ln 2, ln 2)
    def f(x):
        return (gdcore.exp(x) - 2 * x).sum() + (x[0] - x[1]) ** 2
    result = optimize.newton(f, [1.2, -0.4], steps=8)
    errors = np.linalg.norm(result.trace.x - math.log(2), axis=1)
    ratios = [errors[k + 1] / errors[k] ** 2 for k in range(len(errors) - 1) if errors[k] > 1e-6]
    assert len(ratios) >= 3 and max(ratios) < 2.0
    assert errors[-1] < 1e-14


# -- conjugate gradient ------------------------------------------------------------------------------
def spd_problem(n, seed=0):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(n, n))
    a = m @ m.T + 0.5 * np.eye(n)
    return a, rng.normal(size=n)


@pytest.mark.parametrize("variant", ["fletcher-reeves", "polak-ribiere"])
@pytest.mark.parametrize("line_search", ["exact", "auto"])
def test_conjugate_gradient_solves_an_n_dim_quadratic_in_n_steps(variant, line_search):
    n = 6
    a, b = spd_problem(n)
    at, bt = gdcore.tensor(a, dtype=gdcore.float64), gdcore.tensor(b, dtype=gdcore.float64)
    result = optimize.conjugate_gradient(lambda x: 0.5 * (x @ (at @ x)) - bt @ x, np.zeros(n), variant,
                                         steps=n, line_search=line_search)
    solution = np.linalg.solve(a, b)
    assert result.iterations <= n
    np.testing.assert_allclose(result.x, solution, rtol=1e-8, atol=1e-8)
    # with a tolerance it stops by itself, at most n steps in
    stopped = optimize.conjugate_gradient(lambda x: 0.5 * (x @ (at @ x)) - bt @ x, np.zeros(n), variant,
                                          tol=1e-9, line_search=line_search)
    assert stopped.converged and stopped.iterations <= n
    assert np.max(np.abs(a @ stopped.x - b)) <= 1e-9


def test_conjugate_gradient_steps_are_the_exact_minimisers_along_each_direction():
    a, b = spd_problem(4, seed=1)
    at, bt = gdcore.tensor(a, dtype=gdcore.float64), gdcore.tensor(b, dtype=gdcore.float64)
    result = optimize.conjugate_gradient(lambda x: 0.5 * (x @ (at @ x)) - bt @ x, np.zeros(4), steps=4,
                                         line_search="exact")
    xs = result.trace.x
    grads = xs @ a - b  # gradient of the quadratic at every iterate
    # an exact line search leaves each new gradient orthogonal to the direction just taken (x_{k+1} - x_k),
    # and CG's gradients are mutually orthogonal
    for k in range(4):
        assert abs(grads[k + 1] @ (xs[k + 1] - xs[k])) < 1e-9 * np.linalg.norm(xs[k + 1] - xs[k])
    for i in range(4):
        for j in range(i):
            assert abs(grads[i] @ grads[j]) < 1e-8 * np.linalg.norm(grads[i]) * np.linalg.norm(grads[j]) + 1e-12


@pytest.mark.parametrize("variant", ["fletcher-reeves", "polak-ribiere"])
def test_conjugate_gradient_on_rosenbrock_backtracks_to_the_minimum(variant):
    def f(x):
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    result = optimize.conjugate_gradient(f, [-1.2, 1.0], variant, tol=1e-6, line_search="backtracking")
    assert result.converged
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-5)
    assert np.all(np.diff(result.trace.fx) <= 0)  # Armijo steps only go down


@pytest.mark.parametrize("variant", ["fletcher-reeves", "polak-ribiere"])
def test_conjugate_gradient_matches_a_hand_loop_on_a_convex_non_quadratic(variant):
    # exp(x0) + exp(-x1) + x0^2 + x1^2 + x0 x1: strictly convex, so d.H.d > 0 and every step is the exact one
    def f(x):
        return gdcore.exp(x[0]) + gdcore.exp(-x[1]) + x[0] ** 2 + x[1] ** 2 + x[0] * x[1]

    def grad(p):
        return np.array([math.exp(p[0]) + 2 * p[0] + p[1], -math.exp(-p[1]) + 2 * p[1] + p[0]])

    def hess(p):
        return np.array([[math.exp(p[0]) + 2, 1.0], [1.0, math.exp(-p[1]) + 2]])
    x = np.array([1.5, -1.0])
    g = grad(x)
    d = -g
    expected = [x]
    for _ in range(6):
        if g @ d >= 0:
            d = -g
        alpha = -(g @ d) / (d @ hess(x) @ d)
        x = x + alpha * d
        g_new = grad(x)
        if variant == "fletcher-reeves":
            beta = (g_new @ g_new) / (g @ g)
        else:
            beta = max(0.0, g_new @ (g_new - g) / (g @ g))
        d, g = -g_new + beta * d, g_new
        expected.append(x)
    result = optimize.conjugate_gradient(f, [1.5, -1.0], variant, steps=6, line_search="exact")
    np.testing.assert_allclose(result.trace.x, expected, rtol=1e-9, atol=1e-12)


# -- line search -------------------------------------------------------------------------------------
def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def rosenbrock_grad(p):
    return np.array([-2 * (1 - p[0]) - 400 * p[0] * (p[1] - p[0] ** 2), 200 * (p[1] - p[0] ** 2)])


@pytest.mark.parametrize("c, shrink", [(1e-4, 0.5), (0.3, 0.7)])
def test_every_line_search_step_satisfies_armijo_and_is_the_first_that_does(c, shrink):
    f = lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2  # noqa: E731
    result = optimize.gd_line_search(f, [-1.2, 1.0], steps=300, c=c, shrink=shrink)
    xs, alphas = result.trace.x, result.trace.lr
    assert result.iterations == 300 and len(alphas) == 300
    for k, alpha in enumerate(alphas):
        g = rosenbrock_grad(xs[k])
        np.testing.assert_allclose(xs[k + 1], xs[k] - alpha * g, rtol=1e-12, atol=1e-15)
        assert rosenbrock(xs[k + 1]) <= rosenbrock(xs[k]) - c * alpha * (g @ g) + 1e-15  # Armijo
        if alpha < 1.0:  # it backtracked, so the previous trial step (alpha / shrink) had failed Armijo
            bigger = alpha / shrink
            assert rosenbrock(xs[k] - bigger * g) > rosenbrock(xs[k]) - c * bigger * (g @ g)
        j = round(math.log(alpha) / math.log(shrink))
        assert math.isclose(alpha, shrink ** j, rel_tol=1e-12)  # tried 1, shrink, shrink^2, ...
    assert result.fx < rosenbrock(xs[0])


def test_line_search_converges_with_a_tolerance():
    result = optimize.gd_line_search(lambda x: (x - 3) ** 2 + 1, 10.0, tol=1e-8)
    assert result.converged and abs(result.x - 3) < 1e-8


# -- preconditioning ---------------------------------------------------------------------------------
def test_preconditioned_gd_beats_plain_gd_on_an_ill_conditioned_quadratic():
    f = lambda x: 0.5 * x[0] ** 2 + 0.005 * x[1] ** 2  # noqa: E731  curvatures 1 and 0.01
    x0, lr = [1.0, 1.0], 0.5
    plain = optimize.gd(f, x0, lr, tol=1e-6)
    pre = optimize.preconditioned_gd(f, x0, lr, tol=1e-6)
    assert plain.converged and pre.converged
    assert pre.iterations * 20 < plain.iterations
    # the update is x <- x - lr * g / diag(H): here each coordinate shrinks by (1 - lr)
    np.testing.assert_allclose(pre.trace.x[:, 0], 0.5 ** np.arange(pre.iterations + 1), rtol=1e-12)
    np.testing.assert_allclose(pre.trace.x[:, 1], 0.5 ** np.arange(pre.iterations + 1), rtol=1e-12)
    # plain gd: (1 - lr * 1) and (1 - lr * 0.01)
    np.testing.assert_allclose(plain.trace.x[:, 1], 0.995 ** np.arange(plain.iterations + 1), rtol=1e-9)


def test_preconditioned_gd_matches_a_hand_loop_on_a_non_separable_function():
    def hand(p):
        g = np.array([4 * p[0] ** 3 + p[1], p[0] + 2 * p[1]])
        h = np.array([12 * p[0] ** 2, 2.0])
        return p - 0.5 * g / h
    result = optimize.preconditioned_gd(lambda x: x[0] ** 4 + x[0] * x[1] + x[1] ** 2, [1.0, 2.0], 0.5, steps=6)
    expected = [np.array([1.0, 2.0])]
    for _ in range(6):
        expected.append(hand(expected[-1]))
    np.testing.assert_allclose(result.trace.x, expected, rtol=1e-9, atol=1e-12)


# -- SGD and schedules -------------------------------------------------------------------------------
def f_2d(x):
    return x[0] ** 2 + 2 * x[1] ** 2


def test_sgd_with_a_fixed_seed_is_reproducible_and_follows_its_formula():
    first = optimize.sgd(f_2d, [-5.0, -2.0], 0.1, noise=0.5, steps=30, seed=7)
    second = optimize.sgd(f_2d, [-5.0, -2.0], 0.1, noise=0.5, steps=30, seed=7)
    other = optimize.sgd(f_2d, [-5.0, -2.0], 0.1, noise=0.5, steps=30, seed=8)
    np.testing.assert_array_equal(first.trace.x, second.trace.x)
    assert not np.allclose(first.trace.x, other.trace.x)
    # the same run by hand: exact gradient + 0.5 * N(0, 1) noise from the same generator stream
    generator = gdcore.Generator(7)
    x = np.array([-5.0, -2.0])
    expected = [x]
    for _ in range(30):
        z = gdcore.randn(2, generator=generator, dtype=gdcore.float64).numpy()
        x = x - 0.1 * (np.array([2 * x[0], 4 * x[1]]) + 0.5 * z)
        expected.append(x)
    np.testing.assert_allclose(first.trace.x, expected, rtol=1e-12, atol=1e-12)


def test_sgd_without_seed_uses_the_global_generator():
    gdcore.manual_seed(3)
    first = optimize.sgd(lambda x: x ** 2, 1.0, 0.1, steps=10)
    gdcore.manual_seed(3)
    second = optimize.sgd(lambda x: x ** 2, 1.0, 0.1, steps=10)
    np.testing.assert_array_equal(first.trace.x, second.trace.x)
    assert isinstance(first.x, float) and first.trace.x.shape == (11,)


def test_sgd_without_noise_is_gradient_descent():
    sgd = optimize.sgd(f_2d, [-5.0, -2.0], 0.1, noise=0.0, steps=20)
    gd = optimize.gd(f_2d, [-5.0, -2.0], 0.1, steps=20)
    np.testing.assert_array_equal(sgd.trace.x, gd.trace.x)


SCHEDULES = [
    ("piecewise constant", schedules.piecewise_constant([10, 20], [0.1, 0.05, 0.01]),
     lambda t: 0.1 if t < 10 else (0.05 if t < 20 else 0.01)),
    ("exponential", schedules.exponential_decay(0.1, 0.1), lambda t: 0.1 * math.exp(-0.1 * t)),
    ("polynomial", schedules.polynomial(0.1, alpha=0.5, beta=0.1), lambda t: 0.1 * (0.1 * t + 1) ** -0.5),
    ("constant", schedules.constant(0.1), lambda t: 0.1),
]


@pytest.mark.parametrize("name, schedule, formula", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_each_schedule_gives_the_learning_rate_of_its_formula(name, schedule, formula):
    expected_rates = [formula(t) for t in range(30)]
    assert [schedule(t) for t in range(30)] == pytest.approx(expected_rates, rel=1e-15)
    result = optimize.sgd(f_2d, [-5.0, -2.0], schedule=schedule, noise=0.0, steps=30)
    np.testing.assert_allclose(result.trace.lr, expected_rates, rtol=1e-15)
    x = np.array([-5.0, -2.0])
    expected = [x]
    for rate in expected_rates:
        x = x - rate * np.array([2 * x[0], 4 * x[1]])
        expected.append(x)
    np.testing.assert_allclose(result.trace.x, expected, rtol=1e-9, atol=1e-12)


# -- user-supplied derivatives -----------------------------------------------------------------------
def f_nonquadratic(x):
    return x[0] ** 4 + x[0] * x[1] + (1 + x[1]) ** 2


def grad_nonquadratic(x):
    a, b = float(x[0]), float(x[1])
    return [4 * a ** 3 + b, a + 2 * (1 + b)]


def hess_nonquadratic(x):
    a = float(x[0])
    return [[12 * a ** 2, 1.0], [1.0, 2.0]]


@pytest.mark.parametrize("method, kwargs", [
    (optimize.gd, dict(lr=0.05)),
    (optimize.sgd, dict(lr=0.05, seed=1)),
    (optimize.gd_line_search, {}),
    (optimize.newton, dict(hess=hess_nonquadratic)),
    (optimize.preconditioned_gd, dict(lr=0.5, hess=hess_nonquadratic)),
    (optimize.conjugate_gradient, dict(hess=hess_nonquadratic)),
    (optimize.conjugate_gradient, dict(hess=hess_nonquadratic, variant="polak-ribiere")),
])
def test_user_supplied_derivatives_agree_with_autograd(method, kwargs):
    tape_kwargs = {k: v for k, v in kwargs.items() if k != "hess"}
    by_tape = method(f_nonquadratic, [0.7, -0.3], steps=12, **tape_kwargs)
    by_hand = method(f_nonquadratic, [0.7, -0.3], steps=12, grad=grad_nonquadratic, **kwargs)
    assert by_hand.iterations == by_tape.iterations == 12
    np.testing.assert_allclose(by_hand.trace.x, by_tape.trace.x, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(by_hand.trace.fx, by_tape.trace.fx, rtol=1e-10, atol=1e-12)


def test_scalar_user_derivatives_receive_a_tensor_that_math_accepts():
    c = 0.15 * math.pi
    by_hand = optimize.newton(lambda x: x * gdcore.cos(c * x), 10.0, 0.5, steps=10,
                              grad=lambda x: math.cos(c * x) - c * x * math.sin(c * x),
                              hess=lambda x: -2 * c * math.sin(c * x) - x * c * c * math.cos(c * x))
    by_tape = optimize.newton(lambda x: x * gdcore.cos(c * x), 10.0, 0.5, steps=10)
    np.testing.assert_allclose(by_hand.trace.x, by_tape.trace.x, rtol=1e-12)
