"""conv2d and max_pool2d (gdcore.nn.functional and the C++ ops behind them): forward values
against plain numpy loops written here, gradients against finite differences (gradcheck),
gradients of gradients (create_graph), and the error messages for bad shapes and arguments."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gdcore
import gdcore.nn.functional as F
from gdcore import _core
from gdcore.autograd import gradcheck


# ---- independent references: the definitions, written as loops ----------------------------

def conv2d_reference(x, w, b, stride, padding):
    """out[n, o, i, j] = b[o] + sum_{c, p, q} xpad[n, c, i*sh + p, j*sw + q] * w[o, c, p, q]."""
    n_batch, channels, height, width = x.shape
    out_channels, _, kh, kw = w.shape
    (sh, sw), (ph, pw) = stride, padding
    xpad = np.zeros((n_batch, channels, height + 2 * ph, width + 2 * pw))
    xpad[:, :, ph:ph + height, pw:pw + width] = x
    oh, ow = (height + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
    out = np.zeros((n_batch, out_channels, oh, ow))
    for n in range(n_batch):
        for o in range(out_channels):
            for i in range(oh):
                for j in range(ow):
                    total = 0.0 if b is None else b[o]
                    for c in range(channels):
                        for p in range(kh):
                            for q in range(kw):
                                total += xpad[n, c, i * sh + p, j * sw + q] * w[o, c, p, q]
                    out[n, o, i, j] = total
    return out


def max_pool2d_reference(x, kernel, stride, padding):
    """Max over each window of the -inf padded input, and the flat index h*W + w of the first maximum."""
    n_batch, channels, height, width = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh, ow = (height + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
    values = np.zeros((n_batch, channels, oh, ow))
    indices = np.zeros((n_batch, channels, oh, ow), dtype=np.int64)
    for n in range(n_batch):
        for c in range(channels):
            for i in range(oh):
                for j in range(ow):
                    best, best_at = -np.inf, -1
                    for p in range(kh):
                        for q in range(kw):
                            h, x_ = i * sh - ph + p, j * sw - pw + q
                            if 0 <= h < height and 0 <= x_ < width and x[n, c, h, x_] > best:
                                best, best_at = x[n, c, h, x_], h * width + x_
                    values[n, c, i, j], indices[n, c, i, j] = best, best_at
    return values, indices


def leaf(t):
    """t itself when it is a leaf requiring grad (the analytical pass), else a fresh one (finite differences)."""
    return t if t.requires_grad else t.detach().requires_grad_()


CONV_CASES = [
    # (N, C, H, W), (O, kh, kw), stride, padding
    ((1, 1, 5, 5), (1, 3, 3), (1, 1), (0, 0)),
    ((2, 3, 7, 6), (4, 3, 2), (2, 1), (1, 0)),
    ((3, 2, 8, 9), (3, 3, 3), (3, 2), (2, 1)),
    ((2, 2, 4, 4), (2, 1, 1), (1, 1), (1, 1)),
    ((2, 1, 6, 5), (2, 6, 5), (1, 1), (0, 0)),  # kernel covers the whole image
    ((1, 2, 7, 7), (3, 3, 3), (2, 2), (1, 1)),  # (H + 2p - k) not divisible by the stride
]


@pytest.mark.parametrize("xshape, wshape, stride, padding", CONV_CASES)
def test_conv2d_forward_matches_loops(xshape, wshape, stride, padding):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(xshape)
    w = rng.standard_normal((wshape[0], xshape[1], wshape[1], wshape[2]))
    b = rng.standard_normal(wshape[0])
    expected = conv2d_reference(x, w, b, stride, padding)
    got = F.conv2d(gdcore.tensor(x), gdcore.tensor(w), gdcore.tensor(b), stride, padding)
    assert got.dtype == gdcore.float64
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-12)
    no_bias = F.conv2d(gdcore.tensor(x), gdcore.tensor(w), None, stride, padding)
    np.testing.assert_allclose(no_bias.numpy(), conv2d_reference(x, w, None, stride, padding), rtol=1e-12,
                               atol=1e-12)
    # float32 agrees to float32 precision
    got32 = F.conv2d(gdcore.tensor(x).float(), gdcore.tensor(w).float(), gdcore.tensor(b).float(), stride, padding)
    assert got32.dtype == gdcore.float32
    np.testing.assert_allclose(got32.numpy(), expected, rtol=1e-4, atol=1e-4)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 3), o=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7),
       kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3), sw=st.integers(1, 3),
       ph=st.integers(0, 2), pw=st.integers(0, 2), seed=st.integers(0, 2 ** 16))
def test_conv2d_random_geometry_matches_loops(n, c, o, h, w, kh, kw, sh, sw, ph, pw, seed):
    """Any geometry either matches the loop reference or, when the kernel does not fit, raises."""
    rng = np.random.default_rng(seed)
    x, wt, b = rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c, kh, kw)), rng.standard_normal(o)
    if kh > h + 2 * ph or kw > w + 2 * pw:
        with pytest.raises(ValueError, match="is larger than the padded input"):
            F.conv2d(gdcore.tensor(x), gdcore.tensor(wt), gdcore.tensor(b), (sh, sw), (ph, pw))
        return
    got = F.conv2d(gdcore.tensor(x), gdcore.tensor(wt), gdcore.tensor(b), (sh, sw), (ph, pw))
    np.testing.assert_allclose(got.numpy(), conv2d_reference(x, wt, b, (sh, sw), (ph, pw)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("xshape, wshape, stride, padding", CONV_CASES)
def test_conv2d_gradcheck(xshape, wshape, stride, padding):
    rng = np.random.default_rng(2)
    x = gdcore.tensor(rng.standard_normal(xshape), requires_grad=True)
    w = gdcore.tensor(rng.standard_normal((wshape[0], xshape[1], wshape[1], wshape[2])), requires_grad=True)
    b = gdcore.tensor(rng.standard_normal(wshape[0]), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride, padding), [x, w, b])


def test_gradients_through_a_plain_sum():
    """.sum() hands the ops a broadcast (stride 0) gradient; they must read it correctly."""
    rng = np.random.default_rng(10)
    x = gdcore.tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    w = gdcore.tensor(rng.standard_normal((3, 2, 2, 3)), requires_grad=True)
    assert gradcheck(lambda x, w: F.conv2d(x, w, None, 1, 1).sum(), [x, w])
    assert gradcheck(lambda x: F.max_pool2d(x, 2, 1).sum(), [x])


def test_conv2d_gradient_of_bias_is_sum_of_grad_output():
    x = gdcore.randn(3, 2, 5, 5, dtype=gdcore.float64)
    w = gdcore.randn(4, 2, 3, 3, dtype=gdcore.float64)
    b = gdcore.zeros(4, dtype=gdcore.float64, requires_grad=True)
    g = np.random.default_rng(3).standard_normal((3, 4, 3, 3))
    F.conv2d(x, w, b).backward(gdcore.tensor(g))
    np.testing.assert_allclose(b.grad.numpy(), g.sum(axis=(0, 2, 3)), rtol=1e-12)


@pytest.mark.parametrize("stride, padding", [((1, 1), (0, 0)), ((2, 1), (1, 2))])
def test_conv2d_second_order_gradients(stride, padding):
    """create_graph through conv2d: the backward is itself made of differentiable conv ops."""
    rng = np.random.default_rng(4)
    x = gdcore.tensor(rng.standard_normal((2, 2, 6, 5)), requires_grad=True)
    w = gdcore.tensor(rng.standard_normal((3, 2, 3, 2)), requires_grad=True)

    def grad_norms(x, w):
        with gdcore.enable_grad():
            x, w = leaf(x), leaf(w)
            out = F.conv2d(x, w, None, stride, padding)
            weights = gdcore.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))
            gx, gw = gdcore.autograd.grad((out * out * weights).sum(), [x, w], create_graph=True)
            return (gx * gx).sum() + (gw * gw * gw).sum()

    assert gradcheck(grad_norms, [x, w])


def test_conv2d_adjoint_ops_gradcheck():
    """The two adjoint ops alone (used by backward and by create_graph) against finite differences."""
    rng = np.random.default_rng(5)
    g = gdcore.tensor(rng.standard_normal((2, 3, 3, 2)), requires_grad=True)
    w = gdcore.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    x = gdcore.tensor(rng.standard_normal((2, 2, 6, 4)), requires_grad=True)
    assert gradcheck(lambda g, w: _core._conv2d_input_grad(g, w, [2, 2, 6, 4], (2, 1), (1, 0)), [g, w])
    assert gradcheck(lambda x, g: _core._conv2d_weight_grad(x, g, [3, 2, 3, 3], (2, 1), (1, 0)), [x, g])


def test_conv2d_unbatched_input_and_noncontiguous_input():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 5, 6))
    w = rng.standard_normal((3, 2, 3, 3))
    got = F.conv2d(gdcore.tensor(x), gdcore.tensor(w), padding=1)
    assert tuple(got.shape) == (3, 5, 6)
    np.testing.assert_allclose(got.numpy(), conv2d_reference(x[None], w, None, (1, 1), (1, 1))[0], atol=1e-12)
    # A transposed (non-contiguous) input gives the same values as its contiguous copy.
    xt = gdcore.tensor(x.transpose(0, 2, 1).copy()).transpose(1, 2).unsqueeze(0)
    assert not xt.is_contiguous()
    np.testing.assert_allclose(F.conv2d(xt, gdcore.tensor(w)).numpy(),
                               conv2d_reference(x[None], w, None, (1, 1), (0, 0)), atol=1e-12)


def test_conv2d_padding_strings():
    x, w = gdcore.randn(1, 1, 5, 5), gdcore.randn(2, 1, 3, 3)
    assert tuple(F.conv2d(x, w, padding="same").shape) == (1, 2, 5, 5)
    assert tuple(F.conv2d(x, w, padding="valid").shape) == (1, 2, 3, 3)
    with pytest.raises(ValueError, match="odd kernel"):
        F.conv2d(x, gdcore.randn(2, 1, 2, 2), padding="same")


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(gdcore.randn(1, 3, 8, 8), gdcore.randn(4, 2, 3, 3)), r"has 3 channels .* expects 2"),
    (lambda: F.conv2d(gdcore.randn(1, 1, 4, 4), gdcore.randn(1, 1, 5, 5)), r"kernel size \(5, 5\) is larger than the padded input \(4, 4\)"),
    (lambda: F.conv2d(gdcore.randn(1, 1, 4, 4), gdcore.randn(1, 1, 3, 3), stride=0), r"stride must be >= 1, got \(0, 0\)"),
    (lambda: F.conv2d(gdcore.randn(1, 1, 4, 4), gdcore.randn(1, 1, 3, 3), padding=-1), r"padding must be >= 0"),
    (lambda: F.conv2d(gdcore.randn(4, 4), gdcore.randn(1, 1, 3, 3)), r"\(N, C, H, W\) or \(C, H, W\), got shape \(4, 4\)"),
    (lambda: F.conv2d(gdcore.randn(1, 1, 4, 4), gdcore.randn(1, 3, 3)), r"weight of shape \(out_channels"),
    (lambda: F.conv2d(gdcore.randn(1, 1, 4, 4), gdcore.randn(2, 1, 3, 3), gdcore.randn(3)), r"bias must have shape \(2,\)"),
    (lambda: F.conv2d(gdcore.randn(1, 1, 4, 4), gdcore.randn(1, 1, 3, 3, dtype=gdcore.float64)), r"float32 but weight is float64"),
    (lambda: F.conv2d(gdcore.ones(1, 1, 4, 4, dtype=gdcore.int64), gdcore.ones(1, 1, 3, 3, dtype=gdcore.int64)), r"int64; expected float32 or float64"),
    (lambda: F.conv2d(gdcore.randn(1, 1, 4, 4), gdcore.randn(1, 1, 3, 3), dilation=2), r"only dilation=1"),
    (lambda: F.conv2d(gdcore.randn(1, 1, 4, 4), gdcore.randn(1, 1, 3, 3), stride=(1, 2, 3)), r"int or a pair"),
])
def test_conv2d_errors_name_the_problem(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_conv2d_adjoint_shape_checks():
    with pytest.raises(ValueError, match=r"grad_output has shape \(1, 2, 3, 3\) but the convolution produces \(1, 2, 2, 2\)"):
        _core._conv2d_input_grad(gdcore.randn(1, 2, 3, 3), gdcore.randn(2, 1, 3, 3), [1, 1, 4, 4], (1, 1), (0, 0))


# ---- max_pool2d ------------------------------------------------------------------------------

POOL_CASES = [
    # (N, C, H, W), kernel, stride, padding
    ((1, 1, 4, 4), (2, 2), (2, 2), (0, 0)),
    ((2, 3, 7, 7), (3, 3), (2, 2), (1, 1)),
    ((2, 2, 5, 6), (2, 3), (1, 2), (1, 0)),
    ((1, 2, 6, 6), (3, 3), (1, 1), (0, 0)),  # overlapping windows
]


@pytest.mark.parametrize("xshape, kernel, stride, padding", POOL_CASES)
def test_max_pool2d_forward_matches_loops(xshape, kernel, stride, padding):
    x = np.random.default_rng(7).standard_normal(xshape)
    values, indices = F.max_pool2d(gdcore.tensor(x), kernel, stride, padding, return_indices=True)
    want_values, want_indices = max_pool2d_reference(x, kernel, stride, padding)
    np.testing.assert_array_equal(values.numpy(), want_values)
    np.testing.assert_array_equal(indices.numpy(), want_indices)
    assert indices.dtype == gdcore.int64


@pytest.mark.parametrize("xshape, kernel, stride, padding", POOL_CASES)
def test_max_pool2d_gradcheck(xshape, kernel, stride, padding):
    # A permutation of well-separated values: no ties, so finite differences never cross a max switch.
    n = int(np.prod(xshape))
    x = gdcore.tensor(np.random.default_rng(8).permutation(n).reshape(xshape) * 0.1, requires_grad=True)
    assert gradcheck(lambda x: F.max_pool2d(x, kernel, stride, padding), [x])


def test_max_pool2d_overlapping_windows_accumulate_gradient():
    # 3x3 input, 2x2 windows with stride 1: the centre (max 9) is picked by all four windows.
    x = gdcore.tensor([[[[1.0, 2.0, 3.0], [4.0, 9.0, 5.0], [6.0, 7.0, 8.0]]]], requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0, 0, 0], [0, 4, 0], [0, 0, 0]])


def test_max_pool2d_second_order_gradients():
    n = 2 * 2 * 6 * 6
    x = gdcore.tensor(np.random.default_rng(9).permutation(n).reshape(2, 2, 6, 6) * 0.1, requires_grad=True)

    def grad_norm(x):
        with gdcore.enable_grad():
            x = leaf(x)
            out = F.max_pool2d(x, 3, 2, 1)
            (g,) = gdcore.autograd.grad((out ** 3).sum(), [x], create_graph=True)
            return (g * g).sum()

    assert gradcheck(grad_norm, [x])


def test_max_pool2d_defaults_unbatched_and_nan():
    x = gdcore.arange(16.0).reshape(1, 4, 4)
    np.testing.assert_array_equal(F.max_pool2d(x, 2).numpy(), [[[5.0, 7.0], [13.0, 15.0]]])
    y = gdcore.tensor([[[[1.0, float("nan")], [3.0, 2.0]]]])
    assert np.isnan(F.max_pool2d(y, 2).item())


@pytest.mark.parametrize("call, message", [
    (lambda: F.max_pool2d(gdcore.randn(1, 1, 4, 4), 2, padding=2), r"padding must be between 0 and half the kernel size"),
    (lambda: F.max_pool2d(gdcore.randn(1, 1, 3, 3), 4), r"kernel_size \(4, 4\) is larger than the padded input \(3, 3\)"),
    (lambda: F.max_pool2d(gdcore.randn(1, 1, 4, 4), 0), r"kernel_size must be >= 1"),
    (lambda: F.max_pool2d(gdcore.randn(1, 1, 4, 4), 2, stride=0), r"stride must be >= 1"),
    (lambda: F.max_pool2d(gdcore.randn(4, 4), 2), r"got shape \(4, 4\)"),
    (lambda: F.max_pool2d(gdcore.ones(1, 1, 4, 4, dtype=gdcore.int64), 2), r"int64; expected float32 or float64"),
    (lambda: F.max_pool2d(gdcore.randn(1, 1, 4, 4), 2, ceil_mode=True), r"ceil_mode=False"),
    (lambda: _core._pool2d_gather(gdcore.randn(1, 1, 2, 2), gdcore.tensor([[[[4]]]])), r"index 4 is out of range"),
])
def test_max_pool2d_errors_name_the_problem(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
