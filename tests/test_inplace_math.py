"""In-place math methods (x.exp_(), x.clamp_(0, 1), x.relu_(), ...) and clip: each changes the tensor
itself, returns it, matches numpy, carries gradients through a non-leaf as torch does, refuses a leaf
that requires grad and a result its dtype cannot hold."""
import numpy as np
import pytest

import gdcore
from gdcore.autograd import gradcheck

# method -> numpy reference, on values in (0.1, 0.9) where every op is defined and smooth.
UNARY = {
    "abs_": np.abs, "neg_": np.negative, "exp_": np.exp, "log_": np.log, "sqrt_": np.sqrt,
    "sigmoid_": lambda a: 1 / (1 + np.exp(-a)), "tanh_": np.tanh, "relu_": lambda a: np.maximum(a, 0),
    "sin_": np.sin, "cos_": np.cos, "tan_": np.tan, "sinh_": np.sinh, "cosh_": np.cosh,
    "reciprocal_": np.reciprocal, "rsqrt_": lambda a: 1 / np.sqrt(a), "square_": np.square,
    "log1p_": np.log1p, "expm1_": np.expm1, "log2_": np.log2, "log10_": np.log10,
    "floor_": np.floor, "ceil_": np.ceil, "trunc_": np.trunc, "round_": np.round, "sign_": np.sign,
    "negative_": np.negative, "absolute_": np.abs,
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_in_place_matches_numpy(name):
    a = np.random.default_rng(0).uniform(0.1, 0.9, size=(3, 4))
    x = gdcore.tensor(a, dtype=gdcore.float64)
    storage = x.data_ptr()
    assert getattr(x, name)() is x
    assert x.data_ptr() == storage
    np.testing.assert_allclose(x.numpy(), UNARY[name](a), rtol=1e-12, atol=1e-14)


def test_clamp_clip_pow_in_place():
    a = np.linspace(-2, 2, 9)
    x = gdcore.tensor(a)
    np.testing.assert_allclose(gdcore.clip(x, -1, 1).numpy(), np.clip(a, -1, 1))
    np.testing.assert_allclose(x.clip(max=0.5).numpy(), np.minimum(a, 0.5))
    lo, hi = gdcore.tensor(a * 0 - 0.5), gdcore.tensor(a * 0 + 0.25)
    np.testing.assert_allclose(x.clip(lo, hi).numpy(), np.clip(a, -0.5, 0.25))
    y = x.clone()
    assert y.clamp_(0, 1) is y
    np.testing.assert_allclose(y.numpy(), np.clip(a, 0, 1))
    y = x.clone()
    gdcore.clip_(y, min=-0.5)
    np.testing.assert_allclose(y.numpy(), np.maximum(a, -0.5))
    y = x.clone()
    y.clamp_min_(0.0).clamp_max_(1.5)
    np.testing.assert_allclose(y.numpy(), np.clip(a, 0, 1.5))
    y = x.clone()
    y.pow_(2)
    np.testing.assert_allclose(y.numpy(), a ** 2)
    i = gdcore.arange(5)
    i.clamp_(1, 3)
    assert i.dtype == gdcore.int64 and i.tolist() == [1, 1, 2, 3, 3]


def test_in_place_on_a_view_writes_through():
    x = gdcore.zeros(2, 3)
    x[0].exp_()
    np.testing.assert_array_equal(x.numpy(), [[1, 1, 1], [0, 0, 0]])


def test_gradients_flow_through_in_place_ops():
    a = np.random.default_rng(1).uniform(0.5, 2.0, size=(2, 3))

    def f(x):
        y = x * 1.0
        y.log_()  # the op reads a clone: log's saved input is not the overwritten y
        y.mul_(2.0).sigmoid_().pow_(3)
        return y.sum()

    x = gdcore.tensor(a, dtype=gdcore.float64, requires_grad=True)
    assert gradcheck(f, [x])
    f(x).backward()
    s = 1 / (1 + np.exp(-2 * np.log(a)))
    np.testing.assert_allclose(x.grad.numpy(), 3 * s ** 2 * s * (1 - s) * 2 / a, rtol=1e-10)


def test_in_place_refusals():
    leaf = gdcore.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.exp_()
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        gdcore.arange(3).exp_()
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        gdcore.zeros(3).clamp_(gdcore.zeros(2, 3))
