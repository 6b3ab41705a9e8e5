"""Derivatives of every gdcore.Value op, and of composed expressions, against numbers computed
elsewhere: central finite differences of the same function written with Python floats and the
math module (float64 like Value), and closed forms derived by hand (in the comments).
Also the edge values where float64 gives nan or inf (log of a negative number, division by
zero): Value follows numpy there, without raising or crashing.
"""
import math

import pytest

from gdcore import Value

EPS = 1e-6


def central_difference(f, xs, i):
    up, down = list(xs), list(xs)
    up[i] += EPS
    down[i] -= EPS
    return (f(*up) - f(*down)) / (2 * EPS)


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


# name, expression on Values (or floats: the same code runs on both where it can),
# plain-float version (None: the expression itself works on floats), input points.
UNARY = [
    ("neg", lambda x: -x, None, [0.7, -1.3]),
    ("relu", lambda x: x.relu(), lambda x: max(x, 0.0), [0.7, -1.3]),
    ("tanh", lambda x: x.tanh(), math.tanh, [0.7, -1.3]),
    ("exp", lambda x: x.exp(), math.exp, [0.7, -1.3]),
    ("log", lambda x: x.log(), math.log, [0.7, 2.5]),
    ("sigmoid", lambda x: x.sigmoid(), sigmoid, [0.7, -1.3]),
    ("pow 2", lambda x: x ** 2, None, [0.7, -1.3]),
    ("pow 3", lambda x: x ** 3, None, [0.7, -1.3]),
    ("pow -2", lambda x: x ** -2, None, [0.7, -1.3]),
    ("pow 0.5", lambda x: x ** 0.5, None, [0.7, 2.5]),
    ("pow 1.5", lambda x: x ** 1.5, None, [0.7, 2.5]),
    ("add number", lambda x: x + 2.5, None, [0.7]),
    ("number add", lambda x: 2.5 + x, None, [0.7]),
    ("sub number", lambda x: x - 2.5, None, [0.7]),
    ("number sub", lambda x: 2.5 - x, None, [0.7]),
    ("mul number", lambda x: x * -1.5, None, [0.7]),
    ("number mul", lambda x: -1.5 * x, None, [0.7]),
    ("div number", lambda x: x / -1.5, None, [0.7]),
    ("number div", lambda x: -1.5 / x, None, [0.7, -1.3]),
    ("int operands", lambda x: (3 * x - 2) / 4 + 1, None, [0.7]),
]


@pytest.mark.parametrize("name,expr,plain,points", UNARY, ids=[u[0] for u in UNARY])
def test_unary_ops_against_finite_differences(name, expr, plain, points):
    f = plain or expr
    for x0 in points:
        x = Value(x0)
        out = expr(x)
        out.backward()
        assert out.data == pytest.approx(f(x0), rel=1e-14, abs=1e-15)
        assert x.grad == pytest.approx(central_difference(f, [x0], 0), rel=1e-7, abs=1e-9), (name, x0)


BINARY = [
    ("add", lambda a, b: a + b),
    ("sub", lambda a, b: a - b),
    ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b),
]


@pytest.mark.parametrize("name,expr", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("a0,b0", [(0.7, -1.3), (-2.2, 0.4)])
def test_binary_ops_against_finite_differences(name, expr, a0, b0):
    a, b = Value(a0), Value(b0)
    out = expr(a, b)
    out.backward()
    assert out.data == expr(a0, b0)  # the same float64 operation, bit for bit
    assert a.grad == pytest.approx(central_difference(expr, [a0, b0], 0), rel=1e-7)
    assert b.grad == pytest.approx(central_difference(expr, [a0, b0], 1), rel=1e-7)


def test_same_value_on_both_sides():
    # x*x, x/x, x-x, x+x: d/dx = 2x, 0, 0, 2
    for expr, expected in [(lambda x: x * x, 2 * 1.7), (lambda x: x / x, 0.0), (lambda x: x - x, 0.0),
                           (lambda x: x + x, 2.0)]:
        x = Value(1.7)
        expr(x).backward()
        assert x.grad == pytest.approx(expected, abs=1e-15)


def test_composed_expression_closed_form():
    # f = x*y + exp(x/y) - log(x)^2 + tanh(x*y)
    # df/dx = y + exp(x/y)/y - 2 log(x)/x + y (1 - tanh(xy)^2)
    # df/dy = x - x exp(x/y)/y^2 + x (1 - tanh(xy)^2)
    x0, y0 = 1.3, -0.8
    x, y = Value(x0), Value(y0)
    f = x * y + (x / y).exp() - x.log() ** 2 + (x * y).tanh()
    f.backward()
    t = math.tanh(x0 * y0)
    assert f.data == pytest.approx(x0 * y0 + math.exp(x0 / y0) - math.log(x0) ** 2 + t, rel=1e-14)
    assert x.grad == pytest.approx(y0 + math.exp(x0 / y0) / y0 - 2 * math.log(x0) / x0 + y0 * (1 - t * t), rel=1e-13)
    assert y.grad == pytest.approx(x0 - x0 * math.exp(x0 / y0) / y0 ** 2 + x0 * (1 - t * t), rel=1e-13)


def test_composed_expression_finite_differences():
    # A deeper mix of every op, numbers on both sides, Values reused along several paths;
    # `plain` is the same function on floats with the math module.
    def with_values(a, b, c):
        h = (a * b - c / 2).tanh() * 3 + (b ** 2 + 1).log()
        r = (c * (h - a).sigmoid() + 1.5).relu()
        return 2 - (r / (1 + b * b)).exp() * a + h ** 3 / (c - 4) - (-a)

    def plain(a, b, c):
        h = math.tanh(a * b - c / 2) * 3 + math.log(b ** 2 + 1)
        r = max(c * sigmoid(h - a) + 1.5, 0.0)
        return 2 - math.exp(r / (1 + b * b)) * a + h ** 3 / (c - 4) - (-a)

    point = [0.6, -1.1, 0.9]
    vals = [Value(p) for p in point]
    out = with_values(*vals)
    out.backward()
    assert out.data == pytest.approx(plain(*point), rel=1e-13)
    for i, v in enumerate(vals):
        assert v.grad == pytest.approx(central_difference(plain, point, i), rel=1e-6), i


def test_pow_zero_exponent_has_zero_derivative():
    # d(x^0)/dx = 0 everywhere, also at 0 (where 0 * 0^-1 would give nan), as torch gives.
    for x0 in (0.0, 2.0):
        x = Value(x0)
        (x ** 0).backward()
        assert x.grad == 0.0


def test_relu_derivative_is_zero_at_zero():
    x = Value(0.0)
    x.relu().backward()
    assert x.grad == 0.0


def test_float_edge_values_follow_numpy():
    # log(-1) = nan, log(0) = -inf, 1/0 = inf, exp(1000) = inf: no exception, no crash.
    x = Value(-1.0)
    y = x.log()
    y.backward()
    assert math.isnan(y.data) and x.grad == -1.0  # d log(x)/dx = 1/x holds at -1
    z = Value(0.0)
    w = z.log()
    w.backward()
    assert w.data == -math.inf and z.grad == math.inf
    assert (Value(1.0) / 0).data == math.inf and (1 / Value(0.0)).data == math.inf
    assert (Value(1.0) / Value(-0.0)).data == -math.inf
    assert Value(1000.0).exp().data == math.inf
    assert Value(-1000.0).sigmoid().data == 0.0 and Value(1000.0).sigmoid().data == 1.0
    assert math.isnan(Value(math.nan).relu().data)  # relu keeps nan, as torch does
