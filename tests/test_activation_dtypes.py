"""What the activations and elementwise functions give for integer and bool inputs, as torch 2.x
(checked by hand against torch 2.13; torch is never imported here): the table below lists, per op,
the result dtype for each input dtype, or the exception. relu and the rounding functions keep an
integer dtype; the transcendental functions compute in float32; softmax and the smooth activations
refuse integers (torch: "not implemented for 'Long'"); relu, abs and rounding refuse bool.
"""
import numpy as np
import pytest

import gdcore
import gdcore.nn.functional as F

g = gdcore
INTS = ["int64", "int32", "int16", "int8", "uint8"]
SAME = "same"  # the input's dtype

# op -> (result for integer inputs, result for bool). A dtype name, SAME, or an exception class.
TABLE = {
    "relu": (SAME, RuntimeError),
    "F.relu": (SAME, RuntimeError),
    "nn.ReLU": (SAME, RuntimeError),
    "Tensor.relu": (SAME, RuntimeError),
    "abs": (SAME, RuntimeError),
    "neg": (SAME, RuntimeError),
    "square": (SAME, "int64"),
    "sign": (SAME, "bool"),
    "clamp": (SAME, "int64"),
    "floor": (SAME, RuntimeError),
    "ceil": (SAME, RuntimeError),
    "round": (SAME, RuntimeError),
    "trunc": (SAME, RuntimeError),
    "sigmoid": ("float32", "float32"),
    "F.sigmoid": ("float32", "float32"),
    "nn.Sigmoid": ("float32", "float32"),
    "tanh": ("float32", "float32"),
    "nn.Tanh": ("float32", "float32"),
    "exp": ("float32", "float32"),
    "log": ("float32", "float32"),
    "sqrt": ("float32", "float32"),
    "sin": ("float32", "float32"),
    "erf": ("float32", "float32"),
    "sinh": ("float32", "float32"),
    "softmax": (RuntimeError, RuntimeError),
    "log_softmax": (RuntimeError, RuntimeError),
    "nn.Softmax": (RuntimeError, RuntimeError),
    # torch raises NotImplementedError for these; gdcore's smooth activations say TypeError (convert first).
    "leaky_relu": (TypeError, TypeError),
    "gelu": (TypeError, TypeError),
    "elu": (TypeError, TypeError),
    "silu": (TypeError, TypeError),
    "softplus": (TypeError, TypeError),
}

FUNCS = {
    "relu": g.relu, "F.relu": F.relu, "nn.ReLU": g.nn.ReLU(), "Tensor.relu": lambda x: x.relu(), "abs": g.abs,
    "neg": g.neg, "square": g.square, "sign": g.sign, "clamp": lambda x: g.clamp(x, 0, 1), "floor": g.floor,
    "ceil": g.ceil, "round": g.round, "trunc": g.trunc, "sigmoid": g.sigmoid, "F.sigmoid": F.sigmoid,
    "nn.Sigmoid": g.nn.Sigmoid(), "tanh": g.tanh, "nn.Tanh": g.nn.Tanh(), "exp": g.exp, "log": g.log, "sqrt": g.sqrt,
    "sin": g.sin, "erf": g.erf, "sinh": g.sinh, "softmax": lambda x: g.softmax(x, 0),
    "log_softmax": lambda x: g.log_softmax(x, 0), "nn.Softmax": g.nn.Softmax(0), "leaky_relu": F.leaky_relu,
    "gelu": F.gelu, "elu": F.elu, "silu": F.silu, "softplus": F.softplus,
}


@pytest.mark.parametrize("name", sorted(TABLE))
@pytest.mark.parametrize("dtype", INTS + ["bool"])
def test_dtype_table(name, dtype):
    want = TABLE[name][1 if dtype == "bool" else 0]
    values = [1, 0, 1] if dtype == "bool" else [3, 0, 2]
    x = g.tensor(values, dtype=getattr(g, dtype))
    if isinstance(want, type):
        with pytest.raises(want):
            FUNCS[name](x)
        return
    out = FUNCS[name](x)
    assert out.dtype == getattr(g, dtype if want == SAME else want)


@pytest.mark.parametrize("dtype", INTS)
def test_relu_values_on_integers(dtype):
    lo = 0 if dtype == "uint8" else -5
    a = np.arange(lo, 6).astype(dtype)
    for f in (g.relu, F.relu, g.nn.ReLU()):
        out = f(g.tensor(a))
        assert out.dtype == getattr(g, dtype)
        np.testing.assert_array_equal(out.numpy(), np.maximum(a, 0))


def test_relu_of_strided_int_view_and_rounding_copies():
    a = np.arange(-6, 6, dtype=np.int32).reshape(3, 4)
    t = g.tensor(a).t()[::2]
    np.testing.assert_array_equal(g.relu(t).numpy(), np.maximum(a.T[::2], 0))
    r = g.floor(g.tensor(a))
    np.testing.assert_array_equal(r.numpy(), a)
    r[0, 0] = 100  # a copy, not a view of the input
    assert g.tensor(a)[0, 0].item() == -6


def test_softmax_with_dtype_on_integers():
    x = g.tensor([1, 0, 2])
    out = g.softmax(x, 0, dtype=g.float64)
    e = np.exp([1.0, 0.0, 2.0])
    np.testing.assert_allclose(out.numpy(), e / e.sum(), rtol=1e-12)


def test_int_relu_inside_compile_replays():
    w = g.tensor([0.5, -1.0, 2.0], requires_grad=True)
    opt = g.optim.SGD([w], lr=0.1)

    def step(x, k):
        opt.zero_grad()
        loss = (w * g.relu(k).float() + w * g.floor(k).float() * x).sum()
        loss.backward()
        opt.step()
        return loss

    compiled = g.compile(step)
    w0 = w.detach().clone()
    ks = [g.tensor([-1, 2, 3]), g.tensor([4, -5, 1]), g.tensor([0, 1, -2]), g.tensor([2, 2, 2])]
    xs = [g.tensor([1.0, 2.0, 3.0]) * (i + 1) for i in range(4)]
    got = [compiled(x, k).item() for x, k in zip(xs, ks)]
    w2 = w0.clone().requires_grad_(True)
    opt2 = g.optim.SGD([w2], lr=0.1)
    for x, k, loss_got in zip(xs, ks, got):
        opt2.zero_grad()
        loss = (w2 * g.relu(k).float() + w2 * g.floor(k).float() * x).sum()
        loss.backward()
        opt2.step()
        assert loss.item() == loss_got
    np.testing.assert_array_equal(w.detach().numpy(), w2.detach().numpy())
