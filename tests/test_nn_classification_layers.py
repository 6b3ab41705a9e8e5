"""The classification layers (issue 12): activations, Dropout, BatchNorm1d/2d, LayerNorm, Embedding,
AvgPool2d, AdaptiveAvgPool2d, Unflatten. Each forward against an independent numpy computation,
gradients against finite differences in float64, train/eval behaviour, and bad input."""
import math

import numpy as np
import pytest

import gdcore
import gdcore.nn.functional as F
from gdcore import nn
from gdcore.autograd import gradcheck


def values(t):
    return t.detach().numpy().astype(np.float64)


def rand64(*shape, seed=0, requires_grad=True):
    x = np.random.default_rng(seed).standard_normal(shape)
    return gdcore.tensor(x, dtype=gdcore.float64, requires_grad=requires_grad)


_ERF = np.vectorize(math.erf)


def _softplus(x, beta, threshold):
    z = beta * x
    return np.where(z > threshold, x, np.log1p(np.exp(z)) / beta)


ACTIVATIONS = [
    (nn.LeakyReLU(), lambda x: np.where(x >= 0, x, 0.01 * x)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x >= 0, x, 0.2 * x)),
    (nn.GELU(), lambda x: 0.5 * x * (1 + _ERF(x / math.sqrt(2)))),
    (nn.GELU("tanh"), lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    (nn.ELU(), lambda x: np.where(x > 0, x, np.expm1(x))),
    (nn.ELU(alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    (nn.SiLU(), lambda x: x / (1 + np.exp(-x))),
    (nn.Softplus(), lambda x: _softplus(x, 1.0, 20.0)),
    (nn.Softplus(beta=2.0, threshold=3.0), lambda x: _softplus(x, 2.0, 3.0)),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    (nn.LogSoftmax(dim=-1), lambda x: x - x.max(-1, keepdims=True)
     - np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True))),
]


@pytest.mark.parametrize("layer,reference", ACTIVATIONS, ids=lambda v: repr(v) if isinstance(v, nn.Module) else "")
def test_activation_matches_numpy_and_gradcheck(layer, reference):
    x = rand64(4, 5, seed=1) * 3.0
    x = x.detach().requires_grad_()
    np.testing.assert_allclose(values(layer(x)), reference(values(x)), rtol=1e-10, atol=1e-12)
    assert gradcheck(layer, [x])
    x32 = gdcore.tensor(values(x), dtype=gdcore.float32)
    assert layer(x32).dtype == gdcore.float32


def test_softplus_is_stable_for_large_inputs_and_reverts_to_x():
    x = gdcore.tensor([-1e4, -50.0, 0.0, 25.0, 1e4], dtype=gdcore.float64)
    out = values(nn.Softplus()(x))
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, [0.0, np.log1p(np.exp(-50.0)), math.log(2), 25.0, 1e4], rtol=1e-12, atol=0)


def test_elu_gradient_is_finite_for_large_inputs():
    x = gdcore.tensor([800.0, -800.0], dtype=gdcore.float64, requires_grad=True)
    nn.ELU()(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0], atol=1e-300)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nn.GELU("fast")


# ---- Dropout -----------------------------------------------------------------------------------

def test_dropout_train_zeroes_and_scales_eval_is_identity():
    layer = nn.Dropout(p=0.25)
    x = gdcore.ones(200, 50)
    out = values(layer(x))
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    assert abs(kept.mean() - 0.75) < 0.02  # 10 000 draws: the fraction is within a few standard errors
    layer.eval()
    assert np.array_equal(values(layer(x)), values(x))


def test_dropout_mask_follows_the_uniform_draws_of_gdcores_generator():
    """Element i is kept iff u_i >= p, with u the U[0, 1) draws a same-seeded Generator gives."""
    x = rand64(6, 7, requires_grad=False)
    out = F.dropout(x, p=0.4, generator=gdcore.Generator(5))
    u = gdcore.rand(6, 7, generator=gdcore.Generator(5), dtype=gdcore.float64).numpy()
    np.testing.assert_allclose(values(out), np.where(u >= 0.4, values(x) / 0.6, 0.0), rtol=1e-12)


def test_dropout_runs_are_reproducible_with_manual_seed_and_gradient_is_the_mask():
    x = rand64(5, 8)
    gdcore.manual_seed(3)
    a = nn.Dropout(0.5)(x)
    gdcore.manual_seed(3)
    b = nn.Dropout(0.5)(x)
    assert np.array_equal(values(a), values(b))
    a.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(values(a) != 0, 2.0, 0.0))


def test_dropout_edge_probabilities_and_bad_p():
    x = rand64(3, 4, requires_grad=False)
    assert np.array_equal(values(F.dropout(x, 0.0)), values(x))
    assert np.array_equal(values(F.dropout(x, 1.0)), np.zeros((3, 4)))
    for p in (1.5, -0.1, "0.5", True):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            nn.Dropout(p=p)


# ---- BatchNorm ---------------------------------------------------------------------------------

def _batch_norm_loop(batches, momentum, eps, dims):
    """Running statistics by a plain loop, torch's rule: unbiased variance, momentum None = cumulative mean."""
    mean, var = None, None
    outs = []
    for k, x in enumerate(batches, start=1):
        m = x.mean(axis=dims)
        v = x.var(axis=dims)
        n = x.size // x.shape[1]
        if mean is None:
            mean, var = np.zeros_like(m), np.ones_like(v)
        shape = [1, -1] + [1] * (x.ndim - 2)
        outs.append((x - m.reshape(shape)) / np.sqrt(v.reshape(shape) + eps))
        f = 1.0 / k if momentum is None else momentum
        mean = (1 - f) * mean + f * m
        var = (1 - f) * var + f * v * n / (n - 1)
    return outs, mean, var


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("layer_cls,shape", [(nn.BatchNorm1d, (6, 3)), (nn.BatchNorm1d, (4, 3, 5)),
                                             (nn.BatchNorm2d, (2, 3, 4, 5))])
def test_batchnorm_running_statistics_match_a_numpy_loop(layer_cls, shape, momentum):
    layer = layer_cls(3, momentum=momentum, dtype=gdcore.float64)
    rng = np.random.default_rng(2)
    batches = [rng.standard_normal(shape) * (k + 1) + k for k in range(4)]
    dims = tuple(d for d in range(len(shape)) if d != 1)
    expected, mean, var = _batch_norm_loop(batches, momentum, 1e-5, dims)
    for x, want in zip(batches, expected):
        np.testing.assert_allclose(values(layer(gdcore.tensor(x, dtype=gdcore.float64))), want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(values(layer.running_mean), mean, rtol=1e-12)
    np.testing.assert_allclose(values(layer.running_var), var, rtol=1e-12)
    assert int(layer.num_batches_tracked.item()) == 4
    # eval: normalised by the running statistics, which no longer move
    layer.eval()
    x = batches[0]
    s = [1, -1] + [1] * (len(shape) - 2)
    np.testing.assert_allclose(values(layer(gdcore.tensor(x, dtype=gdcore.float64))),
                               (x - mean.reshape(s)) / np.sqrt(var.reshape(s) + 1e-5), rtol=1e-9)
    np.testing.assert_allclose(values(layer.running_mean), mean, rtol=1e-12)
    assert int(layer.num_batches_tracked.item()) == 4


def test_batchnorm_affine_gradcheck_in_train_and_eval():
    layer = nn.BatchNorm2d(3, dtype=gdcore.float64)
    with gdcore.no_grad():
        layer.weight.copy_(rand64(3, seed=4, requires_grad=False))
        layer.bias.copy_(rand64(3, seed=5, requires_grad=False))
    x = rand64(2, 3, 3, 2, seed=6)
    layer.track_running_stats = True
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [x, layer.weight, layer.bias])
    layer(x.detach())  # move the running statistics away from (0, 1)
    rm, rv = layer.running_mean, layer.running_var
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), [x, layer.weight, layer.bias])


def test_batchnorm_without_affine_or_running_stats():
    layer = nn.BatchNorm1d(2, affine=False, track_running_stats=False, dtype=gdcore.float64)
    assert list(layer.parameters()) == [] and layer.running_mean is None
    x = np.random.default_rng(7).standard_normal((5, 2))
    want = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    layer.eval()  # no running statistics: batch statistics in eval too, as torch
    np.testing.assert_allclose(values(layer(gdcore.tensor(x, dtype=gdcore.float64))), want, rtol=1e-10)
    assert "running_mean" not in nn.BatchNorm1d(2, track_running_stats=False).state_dict()
    assert set(nn.BatchNorm2d(2).state_dict()) == {"weight", "bias", "running_mean", "running_var",
                                                  "num_batches_tracked"}


def test_batchnorm_bad_input():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(gdcore.randn(1, 3))
    nn.BatchNorm1d(3).eval()(gdcore.randn(1, 3))  # fine in eval
    with pytest.raises(ValueError, match="has 4 channels .* num_features=3"):
        nn.BatchNorm1d(3)(gdcore.randn(5, 4))
    with pytest.raises(ValueError, match="expected 4-d input"):
        nn.BatchNorm2d(3)(gdcore.randn(5, 3))
    with pytest.raises(ValueError, match="num_features must be a positive int"):
        nn.BatchNorm2d(0)


def test_module_train_eval_switches_dropout_and_batchnorm_inside_a_model():
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Dropout(0.5), nn.Linear(6, 2))
    x = gdcore.randn(8, 4)
    model.eval()
    a, b = values(model(x)), values(model(x))
    assert np.array_equal(a, b)  # deterministic in eval
    model.train()
    assert not np.array_equal(values(model(x)), values(model(x)))  # dropout draws a new mask


# ---- LayerNorm ---------------------------------------------------------------------------------

@pytest.mark.parametrize("normalized_shape", [5, (4, 5)])
def test_layernorm_matches_numpy_and_gradcheck(normalized_shape):
    layer = nn.LayerNorm(normalized_shape, dtype=gdcore.float64)
    with gdcore.no_grad():
        layer.weight.copy_(rand64(*layer.normalized_shape, seed=8, requires_grad=False))
        layer.bias.copy_(rand64(*layer.normalized_shape, seed=9, requires_grad=False))
    x = rand64(3, 4, 5, seed=10)
    k = len(layer.normalized_shape)
    dims = tuple(range(3 - k, 3))
    xv = values(x)
    want = (xv - xv.mean(dims, keepdims=True)) / np.sqrt(xv.var(dims, keepdims=True) + 1e-5)
    want = want * values(layer.weight) + values(layer.bias)
    np.testing.assert_allclose(values(layer(x)), want, rtol=1e-10)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, normalized_shape, w, b), [x, layer.weight, layer.bias])
    layer.eval()
    np.testing.assert_allclose(values(layer(x)), want, rtol=1e-10)  # the same in eval


def test_layernorm_bad_shape():
    with pytest.raises(ValueError, match=r"does not end in normalized_shape \[4\]"):
        nn.LayerNorm(4)(gdcore.randn(2, 5))


# ---- Embedding ---------------------------------------------------------------------------------

def test_embedding_looks_up_rows_and_padding_row_gets_no_gradient():
    emb = nn.Embedding(6, 3, padding_idx=2, dtype=gdcore.float64)
    w = values(emb.weight)
    assert np.array_equal(w[2], np.zeros(3))
    idx = np.array([[0, 2, 5], [2, 2, 1]])
    out = emb(gdcore.tensor(idx, dtype=gdcore.int64))
    np.testing.assert_array_equal(values(out), w[idx])
    (out * out).sum().backward()
    want = np.zeros_like(w)
    for i in idx.ravel():
        if i != 2:
            want[i] += 2 * w[i]
    np.testing.assert_allclose(emb.weight.grad.numpy(), want)


def test_embedding_gradcheck_and_bad_indices():
    weight = rand64(5, 2)
    idx = gdcore.tensor([4, 0, 4, 1], dtype=gdcore.int64)
    assert gradcheck(lambda w: F.embedding(idx, w), [weight])
    with pytest.raises(IndexError, match="index 5 is out of range for 5 embeddings"):
        F.embedding(gdcore.tensor([1, 5], dtype=gdcore.int64), weight)
    with pytest.raises(IndexError, match="index -1 is out of range"):
        F.embedding(gdcore.tensor([-1], dtype=gdcore.int64), weight)
    with pytest.raises(TypeError, match="indices must be an integer tensor"):
        F.embedding(gdcore.tensor([1.0]), weight)
    with pytest.raises(ValueError, match="padding_idx 7 must be within num_embeddings"):
        nn.Embedding(5, 2, padding_idx=7)


# ---- pooling -----------------------------------------------------------------------------------

def _avg_pool_numpy(x, k, s, p, count_include_pad):
    n, c, h, w = x.shape
    oh, ow = (h + 2 * p[0] - k[0]) // s[0] + 1, (w + 2 * p[1] - k[1]) // s[1] + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
            hs, he, ws, we = max(h0, 0), min(h0 + k[0], h), max(w0, 0), min(w0 + k[1], w)
            total = x[:, :, hs:he, ws:we].sum(axis=(2, 3))
            out[:, :, i, j] = total / (k[0] * k[1] if count_include_pad else (he - hs) * (we - ws))
    return out


@pytest.mark.parametrize("k,s,p", [((2, 2), (2, 2), (0, 0)), ((3, 3), (1, 1), (1, 1)), ((3, 2), (2, 1), (1, 0)),
                                   ((5, 5), (1, 1), (2, 2))])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_matches_numpy_and_gradcheck(k, s, p, count_include_pad):
    x = rand64(2, 3, 7, 6, seed=11)
    out = F.avg_pool2d(x, k, s, p, count_include_pad=count_include_pad)
    np.testing.assert_allclose(values(out), _avg_pool_numpy(values(x), k, s, p, count_include_pad), rtol=1e-12)
    assert gradcheck(lambda x: F.avg_pool2d(x, k, s, p, count_include_pad=count_include_pad), [x])


def test_avg_pool2d_second_order_and_layer_and_unbatched():
    x = rand64(1, 2, 5, 5, seed=12)
    # the gradient of the pooled sum of squares, differentiated again, against finite differences
    def grad_of(x):
        with gdcore.enable_grad():  # gradcheck's finite differences call this under no_grad, with plain copies
            if not x.requires_grad:
                x = x.detach().requires_grad_()
            out = F.avg_pool2d(x, 3, 1, 1)
            (g,) = gdcore.autograd.grad((out * out).sum(), [x], create_graph=True)
        return g
    assert gradcheck(grad_of, [x])
    layer = nn.AvgPool2d(2)
    assert layer.stride == 2
    np.testing.assert_allclose(values(layer(x[0])), _avg_pool_numpy(values(x), (2, 2), (2, 2), (0, 0), True)[0])
    out32 = F.avg_pool2d(gdcore.randn(2, 1, 4, 4), 2)
    assert out32.dtype == gdcore.float32 and tuple(out32.shape) == (2, 1, 2, 2)


def test_avg_pool2d_bad_input():
    with pytest.raises(ValueError, match="padding must be between 0 and half the kernel size"):
        F.avg_pool2d(gdcore.randn(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match="is larger than the padded input"):
        F.avg_pool2d(gdcore.randn(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match="only ceil_mode=False"):
        nn.AvgPool2d(2, ceil_mode=True)
    with pytest.raises(ValueError, match="expected input of shape"):
        F.avg_pool2d(gdcore.randn(4, 4), 2)
    with pytest.raises(ValueError, match="divisor_override"):
        F.avg_pool2d(gdcore.randn(1, 1, 4, 4), 2, divisor_override=3)


def _adaptive_numpy(x, oh, ow):
    n, c, h, w = x.shape
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        hs, he = (i * h) // oh, math.ceil((i + 1) * h / oh)
        for j in range(ow):
            ws, we = (j * w) // ow, math.ceil((j + 1) * w / ow)
            out[:, :, i, j] = x[:, :, hs:he, ws:we].mean(axis=(2, 3))
    return out


@pytest.mark.parametrize("size", [1, 3, (2, 4), (5, 7), (7, None), (10, 9)])
def test_adaptive_avg_pool2d_uses_torchs_windows(size):
    x = rand64(2, 2, 7, 6, seed=13)
    oh, ow = (size, size) if isinstance(size, int) else size
    oh, ow = oh or 7, ow or 6
    out = nn.AdaptiveAvgPool2d(size)(x)
    np.testing.assert_allclose(values(out), _adaptive_numpy(values(x), oh, ow), rtol=1e-12, atol=1e-15)
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, size), [x])


def test_adaptive_avg_pool2d_bad_size():
    with pytest.raises(ValueError, match="output sizes must be positive ints"):
        F.adaptive_avg_pool2d(gdcore.randn(1, 1, 4, 4), 0)


# ---- Flatten / Unflatten -----------------------------------------------------------------------

def test_unflatten_inverts_flatten():
    x = gdcore.randn(2, 3, 4, 5)
    flat = nn.Flatten()(x)
    back = nn.Unflatten(1, (3, 4, 5))(flat)
    assert np.array_equal(values(back), values(x))
    assert tuple(nn.Unflatten(-1, (2, -1))(flat).shape) == (2, 2, 30)
    with pytest.raises(ValueError, match=r"has 6 elements but dim 1 of input shape \(2, 60\) has 60"):
        nn.Unflatten(1, (2, 3))(flat)
