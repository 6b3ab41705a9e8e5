"""nn.functional additions of issue 11's breadth round (nn/functional_activations.py,
nn/functional_vectors.py) and their layers: values against numpy formulas written out here,
gradients against finite differences (float64) over hypothesis shapes, incl. broadcasting."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gdcore
from gdcore import nn
from gdcore.autograd import gradcheck
from gdcore.nn import functional as F

SETTINGS = settings(max_examples=10, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
pair_shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, min_side=1, max_side=4)


def leaf(a):
    return gdcore.tensor(np.asarray(a, dtype=np.float64), dtype=gdcore.float64, requires_grad=True)


def away(rng, shape, kinks, low=-5.0, high=5.0, gap=0.05):
    x = rng.uniform(low, high, size=shape)
    for _ in range(100):
        bad = np.zeros(x.shape, dtype=bool)
        for k in kinks:
            bad |= np.abs(x - k) < gap
        if not bad.any():
            return x
        x = np.where(bad, rng.uniform(low, high, size=shape), x)
    raise AssertionError("no values away from the kinks")


def _softplus(x):
    return np.logaddexp(0.0, x)


ALPHA, SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
# name -> (function, layer, numpy reference, kinks)
ACTIVATIONS = {
    "hardtanh": (F.hardtanh, nn.Hardtanh(), lambda x: np.clip(x, -1, 1), (-1.0, 1.0)),
    "hardtanh-range": (lambda x: F.hardtanh(x, -2.0, 0.5), nn.Hardtanh(-2.0, 0.5), lambda x: np.clip(x, -2, 0.5),
                       (-2.0, 0.5)),
    "relu6": (F.relu6, nn.ReLU6(), lambda x: np.minimum(np.maximum(x, 0), 6), (0.0, 6.0)),
    "hardsigmoid": (F.hardsigmoid, nn.Hardsigmoid(), lambda x: np.clip(x / 6 + 0.5, 0, 1), (-3.0, 3.0)),
    "hardswish": (F.hardswish, nn.Hardswish(), lambda x: x * np.minimum(np.maximum(x + 3, 0), 6) / 6, (-3.0, 3.0)),
    "softsign": (F.softsign, nn.Softsign(), lambda x: x / (1 + np.abs(x)), (0.0,)),
    "tanhshrink": (F.tanhshrink, nn.Tanhshrink(), lambda x: x - np.tanh(x), ()),
    "logsigmoid": (F.logsigmoid, nn.LogSigmoid(), lambda x: -_softplus(-x), ()),
    "mish": (F.mish, nn.Mish(), lambda x: x * np.tanh(_softplus(x)), ()),
    "selu": (F.selu, nn.SELU(), lambda x: SCALE * np.where(x > 0, x, ALPHA * (np.exp(x) - 1)), (0.0,)),
    "celu": (F.celu, nn.CELU(), lambda x: np.where(x > 0, x, np.exp(x) - 1), (0.0,)),
    "celu-alpha": (lambda x: F.celu(x, 0.5), nn.CELU(0.5), lambda x: np.where(x > 0, x, 0.5 * (np.exp(x / 0.5) - 1)),
                   (0.0,)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_activation_values_and_gradients(name, shape, seed):
    f, layer, ref, kinks = ACTIVATIONS[name]
    x = away(np.random.default_rng(seed), shape, kinks)
    xt = leaf(x)
    np.testing.assert_allclose(f(xt).detach().numpy(), ref(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer(xt).detach().numpy(), ref(x), rtol=1e-12, atol=1e-12)
    assert gradcheck(f, [xt])
    assert f(gdcore.tensor(x.astype(np.float32))).dtype == gdcore.float32


def test_logsigmoid_and_mish_do_not_overflow():
    x = gdcore.tensor([-1000.0, 1000.0], dtype=gdcore.float64)
    np.testing.assert_allclose(F.logsigmoid(x).numpy(), [-1000.0, 0.0])
    np.testing.assert_allclose(F.mish(x).numpy(), [0.0, 1000.0])


def test_one_hot():
    labels = np.array([[0, 3], [2, 2]])
    out = F.one_hot(gdcore.tensor(labels))
    assert out.dtype == gdcore.int64 and tuple(out.shape) == (2, 2, 4)
    np.testing.assert_array_equal(out.numpy(), np.eye(4, dtype=np.int64)[labels])
    np.testing.assert_array_equal(F.one_hot(gdcore.tensor([1]), num_classes=3).numpy(), [[0, 1, 0]])
    assert tuple(F.one_hot(gdcore.zeros(0, dtype=gdcore.int64), 5).shape) == (0, 5)


def _np_pad(x, pad, mode, value=0.0):
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=value)
    return np.pad(x, widths, mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode])


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), seed=seeds, data=st.data())
def test_pad_constant_any_dims(shape, seed, data):
    k = data.draw(st.integers(1, len(shape)))
    pad = data.draw(st.lists(st.integers(0, 2), min_size=2 * k, max_size=2 * k))
    x = np.random.default_rng(seed).normal(size=shape)
    f = lambda t: F.pad(t, pad, value=1.5)  # noqa: E731
    np.testing.assert_array_equal(f(leaf(x)).detach().numpy(), _np_pad(x, pad, "constant", 1.5))
    assert gradcheck(f, [leaf(x)])


def test_pad_negative_crops():
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(F.pad(gdcore.tensor(x), (-1, 2, 1, -2)).numpy(),
                                  np.pad(x[:1, 1:], ((1, 0), (0, 2))))
    assert F.pad(gdcore.tensor([1, 2]), (1, 1), value=7).dtype == gdcore.int64


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, pad", [((2, 5), (2, 1)), ((1, 2, 5), (1, 3)), ((2, 4, 5), (1, 2, 3, 0)),
                                        ((1, 2, 3, 4), (1, 1, 2, 1))])
def test_pad_border_modes(mode, shape, pad):
    x = np.random.default_rng(0).normal(size=shape)
    f = lambda t: F.pad(t, pad, mode=mode)  # noqa: E731
    np.testing.assert_array_equal(f(leaf(x)).detach().numpy(), _np_pad(x, pad, mode))
    assert gradcheck(f, [leaf(x)])


@SETTINGS
@given(shape=shapes, seed=seeds, data=st.data())
def test_normalize(shape, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    p = data.draw(st.sampled_from([1.0, 2.0, 3.0]))
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1, 1], shape)
    norm = np.sum(np.abs(x) ** p, axis=dim, keepdims=True) ** (1 / p)
    f = lambda t: F.normalize(t, p=p, dim=dim)  # noqa: E731
    np.testing.assert_allclose(f(leaf(x)).detach().numpy(), x / norm, rtol=1e-12)
    assert gradcheck(f, [leaf(x)])
    np.testing.assert_array_equal(F.normalize(gdcore.zeros(2, 3)).numpy(), np.zeros((2, 3)))  # eps, not 0/0


@SETTINGS
@given(shapes=pair_shapes, seed=seeds)
def test_cosine_similarity_and_pairwise_distance_broadcast(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=shapes.input_shapes[0]) + 0.1, rng.normal(size=shapes.input_shapes[1]) - 0.1
    ab, bb = np.broadcast_arrays(a, b)
    cos = np.sum(ab * bb, -1) / (np.linalg.norm(ab, axis=-1) * np.linalg.norm(bb, axis=-1))
    f = lambda s, t: F.cosine_similarity(s, t, dim=-1)  # noqa: E731
    np.testing.assert_allclose(f(leaf(a), leaf(b)).detach().numpy(), cos, rtol=1e-10)
    assert gradcheck(f, [leaf(a), leaf(b)])
    dist = np.linalg.norm(ab - bb + 1e-6, axis=-1)
    np.testing.assert_allclose(F.pairwise_distance(leaf(a), leaf(b)).detach().numpy(), dist, rtol=1e-10)
    assert gradcheck(F.pairwise_distance, [leaf(a), leaf(b)])
    np.testing.assert_allclose(nn.PairwiseDistance(p=1.0, keepdim=True)(leaf(a), leaf(b)).detach().numpy(),
                               np.sum(np.abs(ab - bb + 1e-6), -1, keepdims=True), rtol=1e-10)
    np.testing.assert_allclose(nn.CosineSimilarity(dim=-1)(leaf(a), leaf(b)).detach().numpy(), cos, rtol=1e-10)


def test_cosine_similarity_default_dim_and_zero_vectors():
    x = np.array([[1.0, 2.0, 2.0], [0.0, 0.0, 0.0]])
    y = np.array([[2.0, 4.0, 4.0], [1.0, 1.0, 1.0]])
    np.testing.assert_allclose(F.cosine_similarity(gdcore.tensor(x), gdcore.tensor(y)).numpy(), [1.0, 0.0], atol=1e-6)
