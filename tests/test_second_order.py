"""Second derivatives: Hessians against closed forms, Hessian-vector products against
H @ v, backward(create_graph=True) followed by a second backward, and for every op a
grad-of-grad check: the derivative of a (randomly weighted) first gradient, computed by
autograd through the recorded backward pass, against central differences of that first
gradient.
"""
import math

import numpy as np
import pytest

import gdcore
from gdcore.autograd import grad, hessian, hvp


def f64(values, requires_grad=True):
    return gdcore.tensor(np.asarray(values, dtype=np.float64), dtype=gdcore.float64, requires_grad=requires_grad)


# ---- Hessians with closed forms ---------------------------------------------------------

def test_hessian_of_quadratic():
    h = hessian(lambda x: x[0] ** 2 + 2 * x[1] ** 2, f64([0.7, -1.3]))
    assert tuple(h.shape) == (2, 2)
    np.testing.assert_allclose(h.numpy(), [[2.0, 0.0], [0.0, 4.0]], atol=1e-12)


def test_hessian_of_x_cos_cx():
    c = 0.15 * math.pi
    x = np.linspace(-3.0, 3.0, 7)
    h = hessian(lambda t: (t * gdcore.cos(c * t)).sum(), f64(x))
    # f = x cos(cx): f' = cos(cx) - c x sin(cx); f'' = -2c sin(cx) - c^2 x cos(cx)
    expected = np.diag(-2 * c * np.sin(c * x) - c ** 2 * x * np.cos(c * x))
    np.testing.assert_allclose(h.numpy(), expected, atol=1e-12)


def test_hessian_of_cosh_cx():
    c = 0.5
    x = np.array([-2.0, 0.0, 0.5, 3.0])
    h = hessian(lambda t: gdcore.cosh(c * t).sum(), f64(x))
    np.testing.assert_allclose(h.numpy(), np.diag(c ** 2 * np.cosh(c * x)), atol=1e-12)


def test_hessian_with_cross_terms():
    a = np.array([[2.0, -1.0, 0.5], [0.0, 1.0, 3.0], [1.5, 0.25, -2.0]])
    x = np.array([0.3, -0.8, 1.1])
    A = f64(a, requires_grad=False)
    # f = x^T A x + sum(x^3): H = A + A^T + diag(6x)
    h = hessian(lambda t: t @ (A @ t) + (t ** 3).sum(), f64(x))
    np.testing.assert_allclose(h.numpy(), a + a.T + np.diag(6 * x), atol=1e-12)


def test_hessian_of_linear_function_is_zero():
    h = hessian(lambda t: (3.0 * t).sum(), f64([1.0, 2.0]))
    np.testing.assert_array_equal(h.numpy(), np.zeros((2, 2)))


def test_hessian_vector_product_equals_hessian_times_vector():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    A = f64(a, requires_grad=False)

    def f(t):
        return (t @ (A @ t)) * 0.5 + gdcore.sin(t).sum() + (t.exp() * t).sum()

    hv = hvp(f, f64(x), f64(v, requires_grad=False))
    h = hessian(f, f64(x)).numpy()
    # Closed form: H = (A + A^T)/2 + diag(-sin x + (x + 2) e^x)
    closed = (a + a.T) / 2 + np.diag(-np.sin(x) + (x + 2) * np.exp(x))
    np.testing.assert_allclose(h, closed, atol=1e-12)
    np.testing.assert_allclose(hv.numpy(), closed @ v, atol=1e-12)


def test_backward_create_graph_then_grad_of_grad():
    x = f64([0.5, 2.0])
    y = (x ** 3).sum() + (x[0] * x[1]) ** 2
    y.backward(create_graph=True)
    g = x.grad  # [3x0^2 + 2 x0 x1^2, 3x1^2 + 2 x0^2 x1]
    np.testing.assert_allclose(g.detach().numpy(), [0.75 + 4.0, 12.0 + 1.0])
    assert g.requires_grad
    (g0x0, g0x1) = grad(g[0], x, retain_graph=True)[0].numpy()
    (g1x0, g1x1) = grad(g[1], x)[0].numpy()
    np.testing.assert_allclose([g0x0, g0x1, g1x0, g1x1],
                               [6 * 0.5 + 2 * 4.0, 4 * 0.5 * 2.0, 4 * 0.5 * 2.0, 6 * 2.0 + 2 * 0.25])


def test_third_derivative():
    x = f64([0.7])
    (g1,) = grad(gdcore.sin(x).sum(), x, create_graph=True)
    (g2,) = grad(g1.sum(), x, create_graph=True)
    (g3,) = grad(g2.sum(), x)
    np.testing.assert_allclose(g3.numpy(), [-math.cos(0.7)], atol=1e-12)


# ---- grad of grad against finite differences of the first gradient -----------------------

def _first_gradients(f, xs, out_weight):
    with gdcore.enable_grad():
        out = f(*xs)
        if out_weight is not None:
            out = (out * out_weight).sum()
        return grad(out, xs, create_graph=True, allow_unused=True)


def _weighted_first_gradient(f, arrays, weights, out_weight):
    """s(x) = sum_i <w_i, d f / d x_i>, and the leaves it was computed from."""
    xs = [f64(a) for a in arrays]
    total = None
    for g, w in zip(_first_gradients(f, xs, out_weight), weights):
        if g is not None:
            term = (g * f64(w, requires_grad=False)).sum()
            total = term if total is None else total + term
    return xs, total


def grad_of_grad_check(f, *arrays, eps=1e-5, atol=1e-6, rtol=1e-5):
    rng = np.random.default_rng(42)
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    weights = [rng.standard_normal(a.shape) for a in arrays]
    with gdcore.no_grad():
        out_shape = tuple(f(*[f64(a, requires_grad=False) for a in arrays]).shape)
    out_weight = None if out_shape == () else f64(rng.standard_normal(out_shape), requires_grad=False)

    xs, s = _weighted_first_gradient(f, arrays, weights, out_weight)
    if s is not None and s.requires_grad:
        analytic = [g.numpy() if g is not None else np.zeros(x.shape)
                    for g, x in zip(grad(s, xs, allow_unused=True), xs)]
    else:  # the first gradient is constant: the second derivative is zero
        analytic = [np.zeros(a.shape) for a in arrays]

    def s_at(values):
        _, total = _weighted_first_gradient(f, values, weights, out_weight)
        return 0.0 if total is None else total.item()

    for j, a in enumerate(arrays):
        numeric = np.zeros(a.shape)
        for idx in np.ndindex(*a.shape):
            up = [b.copy() for b in arrays]
            down = [b.copy() for b in arrays]
            up[j][idx] += eps
            down[j][idx] -= eps
            numeric[idx] = (s_at(up) - s_at(down)) / (2 * eps)
        np.testing.assert_allclose(analytic[j], numeric, atol=atol, rtol=rtol, err_msg=f"input {j}")


RNG = np.random.default_rng(7)
X23 = RNG.uniform(0.4, 1.6, size=(2, 3))
Y23 = RNG.uniform(-1.5, 1.5, size=(2, 3))
SIGNED = RNG.uniform(0.3, 1.5, size=(2, 3)) * np.array([[1, -1, 1], [-1, 1, -1]])

UNARY = {
    "neg": (lambda t: -t, Y23),
    "abs": (gdcore.abs, SIGNED),
    "exp": (gdcore.exp, Y23),
    "log": (gdcore.log, X23),
    "sqrt": (gdcore.sqrt, X23),
    "sin": (gdcore.sin, Y23),
    "cos": (gdcore.cos, Y23),
    "tan": (gdcore.tan, Y23 * 0.8),
    "tanh": (gdcore.tanh, Y23),
    "sinh": (gdcore.sinh, Y23),
    "cosh": (gdcore.cosh, Y23),
    "sigmoid": (gdcore.sigmoid, Y23),
    "relu": (gdcore.relu, SIGNED),
    "clamp": (lambda t: t.clamp(-0.2, 0.9), SIGNED),
    "pow_3": (lambda t: t ** 3, Y23),
    "pow_-1.5": (lambda t: t ** -1.5, X23),
    "pow_0.5": (lambda t: t ** 0.5, X23),
    "number_pow": (lambda t: 2.5 ** t, Y23),
    "amax": (lambda t: t.amax(dim=1), Y23),
    "sum": (lambda t: t.sum(dim=0) ** 2, Y23),
    "mean": (lambda t: t.mean(dim=1, keepdim=True) ** 2, Y23),
    "mean_all": (lambda t: t.mean() ** 3, Y23),
    "index": (lambda t: t[1, ::2] * t[0, 1:], Y23),
    "transpose_reshape": (lambda t: t.t().reshape(-1) ** 3, Y23),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_grad_of_grad_unary(name):
    fn, x = UNARY[name]
    grad_of_grad_check(fn, x)


BINARY = {
    "mul": (lambda a, b: a * b * a, (X23, Y23)),
    "mul_broadcast": (lambda a, b: a * b * b, (X23, Y23[:1])),
    "div": (lambda a, b: a / b, (Y23, X23)),
    "div_broadcast": (lambda a, b: a / b, (Y23, X23[:, :1])),
    "pow": (lambda a, b: a ** b, (X23, Y23)),
    "maximum": (lambda a, b: gdcore.maximum(a, b) ** 2, (X23, X23 + 0.25)),
    "add_sub": (lambda a, b: (a + b) * (a - b), (X23, Y23)),
    "matmul": (lambda a, b: (a @ b) ** 2, (X23, Y23.T)),
    "matmul_vec": (lambda a, b: (a @ b).sin(), (X23, Y23[0])),
    "matmul_batched": (lambda a, b: (a @ b).tanh(), (np.stack([X23, Y23]), Y23.T)),
    "mse_mean": (lambda a, b: gdcore.mse_loss(a, b) * gdcore.mse_loss(a, b), (X23, Y23)),
    "mse_sum": (lambda a, b: gdcore.mse_loss(a.sin(), b, reduction="sum"), (X23, Y23)),
    "mse_none": (lambda a, b: gdcore.mse_loss(a * b, b, reduction="none"), (X23, Y23)),
    "cat": (lambda a, b: gdcore.cat([a * b, b], dim=1) ** 2, (X23, Y23)),
    "index_select": (lambda a, b: a.index_select(1, gdcore.tensor([2, 0, 2])) * b, (X23, Y23)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_grad_of_grad_binary(name):
    fn, arrays = BINARY[name]
    grad_of_grad_check(fn, *arrays)


def test_hvp_and_jacobian_of_linear_and_constant_functions():
    x, v = f64([1.0, 2.0]), f64([0.5, -1.0], requires_grad=False)
    np.testing.assert_array_equal(hvp(lambda t: (3.0 * t).sum(), x, v).numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(hvp(lambda t: gdcore.ones(()), x, v).numpy(), [0.0, 0.0])
    j = gdcore.autograd.jacobian(lambda t: t * t, f64([1.0, 3.0]))
    np.testing.assert_allclose(j.numpy(), [[2.0, 0.0], [0.0, 6.0]])
    np.testing.assert_array_equal(gdcore.autograd.jacobian(lambda t: gdcore.ones(3), x).numpy(), np.zeros((3, 2)))
