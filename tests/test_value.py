"""gdcore.Value, the micrograd-style scalar: arithmetic with numbers on either side, **,
relu/tanh/exp/log/sigmoid, backward, .grad/.data, .tensor and repr (the scalar tape's
lifetime, threads and bad input are in test_value_tape.py). Expected derivatives are
derived by hand (in the comments), taken from micrograd's published example, or
computed by finite differences of a plain-Python re-implementation (a tanh neuron).
"""
import math

import pytest

import gdcore
from gdcore import Value


def test_repr_data_and_label():
    v = Value(3.0, label="w")
    assert repr(v) == "Value(data=3.0, grad=0.0)"
    assert v.data == 3.0 and v.grad == 0.0 and v.label == "w" and float(v) == 3.0
    assert Value(2).data == 2.0


@pytest.mark.parametrize("make,value,da,db", [
    # f(a, b) with a = 2, b = -3; da, db derived by hand
    (lambda a, b: a + b, -1.0, 1.0, 1.0),
    (lambda a, b: a - b, 5.0, 1.0, -1.0),
    (lambda a, b: a * b, -6.0, -3.0, 2.0),
    (lambda a, b: a / b, -2 / 3, -1 / 3, -2 / 9),         # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
    (lambda a, b: a * a * b, -12.0, -12.0, 4.0),          # a used twice: 2ab, a^2
    (lambda a, b: -a + b * 0.5, -3.5, -1.0, 0.5),
])
def test_binary_arithmetic(make, value, da, db):
    a, b = Value(2.0), Value(-3.0)
    out = make(a, b)
    out.backward()
    assert out.data == pytest.approx(value)
    assert out.grad == 1.0
    assert a.grad == pytest.approx(da) and b.grad == pytest.approx(db)


@pytest.mark.parametrize("make,value,dx", [
    # numbers on either side, with x = 2
    (lambda x: x + 1.5, 3.5, 1.0),
    (lambda x: 1.5 + x, 3.5, 1.0),
    (lambda x: x - 1, 1.0, 1.0),
    (lambda x: 1 - x, -1.0, -1.0),
    (lambda x: x * 3, 6.0, 3.0),
    (lambda x: 3 * x, 6.0, 3.0),
    (lambda x: x / 4, 0.5, 0.25),
    (lambda x: 4 / x, 2.0, -1.0),                         # -4/x^2
    (lambda x: x ** 3, 8.0, 12.0),                        # 3x^2
    (lambda x: x ** -1, 0.5, -0.25),                      # -x^-2
    (lambda x: x ** 0.5, math.sqrt(2), 0.5 / math.sqrt(2)),
])
def test_numbers_on_either_side_and_pow(make, value, dx):
    x = Value(2.0)
    out = make(x)
    out.backward()
    assert out.data == pytest.approx(value)
    assert x.grad == pytest.approx(dx)


@pytest.mark.parametrize("name,x,value,dx", [
    ("relu", 1.5, 1.5, 1.0),
    ("relu", -0.5, 0.0, 0.0),
    ("tanh", 0.5, math.tanh(0.5), 1 - math.tanh(0.5) ** 2),
    ("exp", 0.5, math.exp(0.5), math.exp(0.5)),
    ("log", 0.5, math.log(0.5), 2.0),
    ("sigmoid", 0.5, 1 / (1 + math.exp(-0.5)), math.exp(-0.5) / (1 + math.exp(-0.5)) ** 2),
])
def test_functions(name, x, value, dx):
    v = Value(x)
    out = getattr(v, name)()
    out.backward()
    assert out.data == pytest.approx(value, rel=1e-12)
    assert v.grad == pytest.approx(dx, rel=1e-12)


def test_micrograd_readme_example():
    # The example (and its printed results) from micrograd's README.
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b ** 3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g += 10.0 / f
    assert round(g.data, 4) == 24.7041
    g.backward()
    assert round(a.grad, 4) == 138.8338
    assert round(b.grad, 4) == 645.5773


def test_intermediate_values_keep_their_grad():
    x = Value(2.0)
    y = x * 3
    z = y * y
    z.backward()
    assert z.grad == 1.0 and y.grad == pytest.approx(12.0) and x.grad == pytest.approx(36.0)


def test_grads_accumulate_until_reset():
    x = Value(3.0)
    (x * x).backward()
    (x * x).backward()
    assert x.grad == pytest.approx(12.0)
    x.grad = 0.0
    (x * x * x).backward()
    assert x.grad == pytest.approx(27.0)


def test_gradient_descent_on_data():
    # The micrograd training loop: p.data -= lr * p.grad, then zero the grad.
    x = Value(3.0)
    for _ in range(50):
        loss = (x - 1.0) ** 2
        x.grad = 0.0
        loss.backward()
        x.data -= 0.1 * x.grad
    assert x.data == pytest.approx(1.0, abs=1e-4)  # (x - 1) shrinks by 0.8 per step: 2 * 0.8^50


def test_tensor_is_a_detached_copy_of_the_number():
    # Values record on the scalar tape; .tensor hands the number to tensor code without a graph.
    x = Value(2.0)
    y = x * x
    t = y.tensor
    assert isinstance(t, gdcore.Tensor) and t.dtype == gdcore.float64 and t.shape == ()
    assert t.item() == 4.0 and not t.requires_grad and t.grad_fn is None


def test_value_errors():
    with pytest.raises(TypeError, match="Value or a number"):
        Value(2.0) + "a"
    with pytest.raises(TypeError, match="int/float powers"):
        Value(2.0) ** Value(3.0)


def test_backward_twice_accumulates():
    # As micrograd allows: the graph stays walkable, and each backward adds d(y)/d(v) again.
    a, b = Value(2.0), Value(3.0)
    y = a * b
    y.backward()
    y.backward()
    assert a.grad == 6.0 and b.grad == 4.0 and y.grad == 2.0


def _neuron(ws, b, xs):
    """tanh(sum w_i x_i + b) in plain Python floats."""
    return math.tanh(sum(w * x for w, x in zip(ws, xs)) + b)


def test_neuron_against_finite_differences():
    ws, b, xs = [0.3, -1.2, 0.7], 0.1, [1.5, 0.4, -2.0]
    wv, bv, xv = [Value(w) for w in ws], Value(b), [Value(x) for x in xs]
    out = sum((w * x for w, x in zip(wv, xv)), bv).tanh()
    assert out.data == pytest.approx(_neuron(ws, b, xs), rel=1e-12)
    out.backward()
    eps = 1e-6

    def central(f, values, i):
        up, down = list(values), list(values)
        up[i] += eps
        down[i] -= eps
        return (f(up) - f(down)) / (2 * eps)

    for i in range(3):
        assert wv[i].grad == pytest.approx(central(lambda v: _neuron(v, b, xs), ws, i), rel=1e-6)
        assert xv[i].grad == pytest.approx(central(lambda v: _neuron(ws, b, v), xs, i), rel=1e-6)
    assert bv.grad == pytest.approx(central(lambda v: _neuron(ws, v[0], xs), [b], 0), rel=1e-6)


def test_tiny_mlp_layer_against_finite_differences():
    # Two tanh neurons feeding a linear output: loss = (v1 h1 + v2 h2 - target)^2.
    params = [0.5, -0.3, 0.8, 0.2, -0.6, 0.4, 1.1, -0.7]  # w11 w12 b1 w21 w22 b2 v1 v2
    x, target = [0.9, -1.4], 0.25

    def loss_of(p, num):
        tanh = (lambda t: t.tanh()) if not num else math.tanh
        h1 = tanh(p[0] * x[0] + p[1] * x[1] + p[2])
        h2 = tanh(p[3] * x[0] + p[4] * x[1] + p[5])
        return (p[6] * h1 + p[7] * h2 - target) ** 2

    values = [Value(p) for p in params]
    loss = loss_of(values, num=False)
    assert loss.data == pytest.approx(loss_of(params, num=True), rel=1e-12)
    loss.backward()
    eps = 1e-6
    for i, v in enumerate(values):
        up, down = list(params), list(params)
        up[i] += eps
        down[i] -= eps
        numeric = (loss_of(up, True) - loss_of(down, True)) / (2 * eps)
        assert v.grad == pytest.approx(numeric, rel=1e-5, abs=1e-9)
