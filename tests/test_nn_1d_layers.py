"""conv1d, max_pool1d, avg_pool1d and their layers (nn/functional_1d.py, nn/layers_1d.py): values
against plain numpy loops, gradients against finite differences (float64) over hypothesis shapes."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import gdcore
from gdcore import nn
from gdcore.autograd import gradcheck
from gdcore.nn import functional as F

SETTINGS = settings(max_examples=10, deadline=None)


def leaf(a):
    return gdcore.tensor(np.asarray(a, dtype=np.float64), dtype=gdcore.float64, requires_grad=True)


def np_conv1d(x, w, b, stride, pad):
    n, c, length = x.shape
    o, _, k = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad)))
    out_len = (length + 2 * pad - k) // stride + 1
    out = np.zeros((n, o, out_len))
    for i in range(out_len):
        window = xp[:, :, i * stride:i * stride + k]
        out[:, :, i] = np.einsum("nck,ock->no", window, w)
    return out + (0 if b is None else b[None, :, None])


def np_pool1d(x, k, stride, pad, op, count_include_pad=True):
    fill = -np.inf if op == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad)), constant_values=fill)
    ones = np.pad(np.ones(x.shape[-1]), (pad, pad))
    out_len = (x.shape[-1] + 2 * pad - k) // stride + 1
    out = np.zeros(x.shape[:2] + (out_len,))
    for i in range(out_len):
        window = xp[..., i * stride:i * stride + k]
        if op == "max":
            out[..., i] = window.max(-1)
        else:
            out[..., i] = window.sum(-1) / (k if count_include_pad else ones[i * stride:i * stride + k].sum())
    return out


@SETTINGS
@given(n=st.integers(1, 2), c=st.integers(1, 3), o=st.integers(1, 3), length=st.integers(3, 8), k=st.integers(1, 3),
       stride=st.integers(1, 2), pad=st.integers(0, 1), bias=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_conv1d(n, c, o, length, k, stride, pad, bias, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.normal(size=(n, c, length)), rng.normal(size=(o, c, k)), rng.normal(size=o)
    args = [leaf(x), leaf(w)] + ([leaf(b)] if bias else [])

    def f(xt, wt, bt=None):
        return F.conv1d(xt, wt, bt, stride=stride, padding=pad)

    np.testing.assert_allclose(f(*args).detach().numpy(), np_conv1d(x, w, b if bias else None, stride, pad),
                               rtol=1e-10, atol=1e-12)
    assert gradcheck(f, args)
    unbatched = F.conv1d(leaf(x[0]), leaf(w), stride=stride, padding=pad)
    np.testing.assert_allclose(unbatched.detach().numpy(), np_conv1d(x[:1], w, None, stride, pad)[0], rtol=1e-10,
                               atol=1e-12)


@SETTINGS
@given(length=st.integers(3, 9), k=st.integers(1, 3), stride=st.integers(1, 3), pad=st.integers(0, 1),
       seed=st.integers(0, 2**32 - 1))
def test_pool1d(length, k, stride, pad, seed):
    if pad > k // 2:
        pad = 0  # torch requires padding <= kernel_size / 2
    x = np.random.default_rng(seed).permutation(2 * 3 * length).reshape(2, 3, length) / 7.0  # no ties
    mp = lambda t: F.max_pool1d(t, k, stride, pad)  # noqa: E731
    ap = lambda t: F.avg_pool1d(t, k, stride, pad)  # noqa: E731
    ap_ex = lambda t: F.avg_pool1d(t, k, stride, pad, count_include_pad=False)  # noqa: E731
    np.testing.assert_allclose(mp(leaf(x)).detach().numpy(), np_pool1d(x, k, stride, pad, "max"))
    np.testing.assert_allclose(ap(leaf(x)).detach().numpy(), np_pool1d(x, k, stride, pad, "avg"), rtol=1e-12)
    np.testing.assert_allclose(ap_ex(leaf(x)).detach().numpy(), np_pool1d(x, k, stride, pad, "avg", False),
                               rtol=1e-12)
    for f in (mp, ap, ap_ex):
        assert gradcheck(f, [leaf(x)])


def test_max_pool1d_indices_and_layers():
    x = gdcore.tensor([[[1.0, 5.0, 2.0, 0.0, 7.0, 3.0]]])
    values, indices = F.max_pool1d(x, 2, return_indices=True)
    assert values.tolist() == [[[5.0, 2.0, 7.0]]] and indices.tolist() == [[[1, 2, 4]]]
    assert nn.MaxPool1d(3)(x).tolist() == [[[5.0, 7.0]]]
    np.testing.assert_allclose(nn.AvgPool1d(3)(x).numpy(), [[[8.0 / 3, 10.0 / 3]]], rtol=1e-6)
    conv = nn.Conv1d(2, 4, kernel_size=3, padding="same")
    assert tuple(conv.weight.shape) == (4, 2, 3) and tuple(conv(gdcore.zeros(5, 2, 7)).shape) == (5, 4, 7)
    bound = 1 / np.sqrt(2 * 3)  # torch's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias
    assert np.all(np.abs(conv.bias.detach().numpy()) <= bound)
    assert repr(nn.Conv1d(3, 4, 3, stride=2, padding=1)) == "Conv1d(3, 4, kernel_size=(3,), stride=(2,), padding=(1,))"
    assert list(conv.state_dict()) == ["weight", "bias"]
