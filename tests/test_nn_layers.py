"""The layers (Linear, Conv2d, MaxPool2d, activations, Flatten, MSELoss), nn.functional's
elementwise functions and nn.init: values against numpy, torch's default initialisation
bounds, and the statistics of the initialisers."""
import math

import numpy as np
import pytest

import gdcore
import gdcore.nn.functional as F
from gdcore import nn
from gdcore.nn import init


def values(t):
    return t.detach().numpy().astype(np.float64)


# ---- Linear ------------------------------------------------------------------------------------

def test_linear_forward_matches_numpy_for_any_leading_dims():
    lin = nn.Linear(4, 3)
    w, b = values(lin.weight), values(lin.bias)
    for shape in [(4,), (5, 4), (2, 5, 4)]:
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        out = lin(gdcore.tensor(x))
        assert tuple(out.shape) == shape[:-1] + (3,)
        np.testing.assert_allclose(values(out), x.astype(np.float64) @ w.T + b, rtol=1e-5, atol=1e-6)
    no_bias = nn.Linear(4, 3, bias=False)
    assert no_bias.bias is None and len(list(no_bias.parameters())) == 1
    x = np.ones((2, 4), dtype=np.float32)
    np.testing.assert_allclose(values(no_bias(gdcore.tensor(x))), x @ values(no_bias.weight).T, rtol=1e-6)


def test_linear_gradients_match_closed_form():
    lin = nn.Linear(3, 2, dtype=gdcore.float64)
    x = np.random.default_rng(1).standard_normal((5, 3))
    lin(gdcore.tensor(x)).sum().backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), np.tile(x.sum(axis=0), (2, 1)), rtol=1e-12)
    np.testing.assert_allclose(lin.bias.grad.numpy(), [5.0, 5.0])


@pytest.mark.parametrize("fan_in", [3, 400])
def test_linear_default_init_is_torchs(fan_in):
    """kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias uses the same bound."""
    lin = nn.Linear(fan_in, 300)
    bound = 1.0 / math.sqrt(fan_in)
    w, b = values(lin.weight), values(lin.bias)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.95 * bound  # the whole interval is used, not a narrower one
    assert abs(w.var() - bound ** 2 / 3) < 0.1 * bound ** 2 / 3  # variance of U(-a, a) is a^2 / 3
    assert abs(w.mean()) < 0.05 * bound
    assert lin.weight.dtype == gdcore.float32 and lin.weight.requires_grad


def test_linear_arguments_are_checked():
    with pytest.raises(ValueError, match="in_features must be an int >= 0, got -1"):
        nn.Linear(-1, 2)
    with pytest.raises(ValueError, match=r"input of shape \(2, 5\) has 5 features but weight of shape \(3, 4\) expects 4"):
        nn.Linear(4, 3)(gdcore.randn(2, 5))
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\)"):
        F.linear(gdcore.randn(2, 4), gdcore.randn(3, 4), gdcore.randn(4))
    with pytest.raises(TypeError, match="float32 or float64"):
        nn.Linear(2, 2, dtype=gdcore.int64)


# ---- Conv2d and MaxPool2d layers -------------------------------------------------------------

def test_conv2d_layer_shapes_init_and_repr():
    conv = nn.Conv2d(3, 8, (3, 5), stride=2, padding=1)
    assert tuple(conv.weight.shape) == (8, 3, 3, 5) and tuple(conv.bias.shape) == (8,)
    bound = 1.0 / math.sqrt(3 * 3 * 5)
    assert np.abs(values(conv.weight)).max() <= bound and np.abs(values(conv.bias)).max() <= bound
    assert np.abs(values(conv.weight)).max() > 0.9 * bound
    out = conv(gdcore.randn(2, 3, 9, 10))
    assert tuple(out.shape) == (2, 8, (9 + 2 - 3) // 2 + 1, (10 + 2 - 5) // 2 + 1)
    assert repr(conv) == "Conv2d(3, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1))"
    assert repr(nn.Conv2d(1, 6, 5, bias=False)) == "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), bias=False)"
    with pytest.raises(ValueError, match="only groups=1"):
        nn.Conv2d(2, 2, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        nn.Conv2d(2, 2, 3, stride=2, padding="same")


def test_conv2d_layer_equals_functional_with_its_parameters():
    conv = nn.Conv2d(2, 3, 3, padding=1)
    x = gdcore.randn(2, 2, 5, 5)
    np.testing.assert_array_equal(values(conv(x)), values(F.conv2d(x, conv.weight, conv.bias, padding=1)))


def test_maxpool2d_layer():
    pool = nn.MaxPool2d(2)
    assert repr(pool) == "MaxPool2d(kernel_size=2, stride=2, padding=0)"
    x = gdcore.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(values(pool(x)), [[[[5.0, 7.0], [13.0, 15.0]]]])
    out, idx = nn.MaxPool2d(2, return_indices=True)(x)
    np.testing.assert_array_equal(idx.numpy(), [[[[5, 7], [13, 15]]]])


# ---- activations, Flatten, MSELoss -----------------------------------------------------------

def test_activations_match_numpy():
    x = np.linspace(-3, 3, 13)
    t = gdcore.tensor(x)
    np.testing.assert_allclose(values(nn.ReLU()(t)), np.maximum(x, 0))
    np.testing.assert_allclose(values(nn.Sigmoid()(t)), 1 / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(values(nn.Tanh()(t)), np.tanh(x), rtol=1e-12)
    np.testing.assert_allclose(values(F.relu(t)), np.maximum(x, 0))
    np.testing.assert_allclose(values(F.sigmoid(t)), 1 / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(values(F.tanh(t)), np.tanh(x), rtol=1e-12)
    assert nn.Identity(3, whatever=1)(t) is t


def test_flatten():
    x = gdcore.randn(2, 3, 4, 5)
    assert tuple(nn.Flatten()(x).shape) == (2, 60)
    assert tuple(nn.Flatten(0, 1)(x).shape) == (6, 4, 5)
    np.testing.assert_array_equal(values(nn.Flatten()(x)), values(x).reshape(2, 60))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_numpy(reduction):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    sq = (a - b) ** 2
    expected = {"mean": sq.mean(), "sum": sq.sum(), "none": sq}[reduction]
    np.testing.assert_allclose(values(nn.MSELoss(reduction=reduction)(gdcore.tensor(a), gdcore.tensor(b))),
                               expected, rtol=1e-12)
    np.testing.assert_allclose(values(F.mse_loss(gdcore.tensor(a), gdcore.tensor(b), reduction=reduction)),
                               expected, rtol=1e-12)


def test_mse_loss_errors():
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match=r"input shape \(3, 1\) and target shape \(3,\) differ"):
        nn.MSELoss()(gdcore.zeros(3, 1), gdcore.zeros(3))


# ---- nn.init -----------------------------------------------------------------------------------

def test_calculate_gain_closed_forms():
    assert init.calculate_gain("linear") == 1.0 and init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def _check_uniform(t, bound):
    v = values(t)
    assert np.abs(v).max() <= bound * (1 + 1e-6)
    assert np.abs(v).max() > 0.95 * bound
    assert abs(v.var() - bound ** 2 / 3) < 0.08 * bound ** 2 / 3


def test_kaiming_and_xavier_uniform_bounds():
    w = nn.Parameter(gdcore.zeros(200, 50))
    assert init.kaiming_uniform_(w, nonlinearity="relu") is w
    _check_uniform(w, math.sqrt(2) * math.sqrt(3 / 50))
    init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    _check_uniform(w, math.sqrt(2) * math.sqrt(3 / 200))
    conv = gdcore.zeros(16, 6, 5, 5)
    init.kaiming_uniform_(conv, a=math.sqrt(5))  # fan_in = 6 * 25
    _check_uniform(conv, 1 / math.sqrt(150))
    x = gdcore.zeros(100, 300)
    init.xavier_uniform_(x, gain=2.0)
    _check_uniform(x, 2.0 * math.sqrt(6 / 400))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(gdcore.zeros(5))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_uniform_(w, mode="fan")


def test_normal_uniform_constant_and_generator():
    p = nn.Parameter(gdcore.zeros(100, 100))
    init.normal_(p, mean=2.0, std=0.5)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None  # filled in place, outside autograd
    assert abs(values(p).mean() - 2.0) < 0.02 and abs(values(p).std() - 0.5) < 0.02
    init.uniform_(p, -1.0, 3.0)
    assert values(p).min() >= -1.0 and values(p).max() < 3.0 and abs(values(p).mean() - 1.0) < 0.05
    init.constant_(p, 0.25)
    assert np.all(values(p) == 0.25)
    init.zeros_(p)
    assert not values(p).any()
    init.ones_(p)
    assert np.all(values(p) == 1.0)
    a, b = gdcore.zeros(50), gdcore.zeros(50)
    init.uniform_(a, generator=gdcore.Generator(7))
    init.uniform_(b, generator=gdcore.Generator(7))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    init.xavier_uniform_(gdcore.zeros(3, 3), generator=gdcore.Generator(1))
    with pytest.raises(TypeError, match="generator must be a gdcore.Generator"):
        init.normal_(a, generator=7)
    with pytest.raises(ValueError, match="expected a <= b"):
        init.uniform_(a, 1.0, 0.0)
