"""Convolution through the chunked GEMM layout (cpp/src/ops/conv.cpp): several images unfolded side by
side into one column matrix, one BLAS product per chunk of samples. Batches whose column matrices
exceed the chunk budget (256 KiB, sized for L2) are split; the forward pass and both gradients must not notice.
Expected values: numpy float64 loops over the kernel offsets (closed forms of the convolution and
its adjoints), never gdcore itself.
"""
import numpy as np
import pytest

import gdcore
from gdcore.nn import functional as F


def windows(x_pad, kh, kw, stride):
    """(N, C, OH, OW, kh, kw) view of the padded input's windows."""
    v = np.lib.stride_tricks.sliding_window_view(x_pad, (kh, kw), axis=(2, 3))
    return v[:, :, ::stride[0], ::stride[1]]


def conv_reference(x, w, b, stride, padding):
    """Forward, and the gradients of sum(g * conv(x)) w.r.t. x, w and b."""
    (ph, pw), (kh, kw) = padding, w.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    win = windows(x_pad, kh, kw, stride)
    y = np.einsum("ncijpq,ocpq->noij", win, w) + b[None, :, None, None]
    return y, win, x_pad.shape


def conv_grads(win, x_pad_shape, w, g, stride, padding):
    (ph, pw), (kh, kw) = padding, w.shape[2:]
    oh, ow = g.shape[2:]
    grad_w = np.einsum("noij,ncijpq->ocpq", g, win)
    grad_pad = np.zeros(x_pad_shape)
    for p in range(kh):          # each kernel offset adds W^T g back onto the pixels it read
        for q in range(kw):
            grad_pad[:, :, p:p + stride[0] * oh:stride[0], q:q + stride[1] * ow:stride[1]] += np.einsum(
                "oc,noij->ncij", w[:, :, p, q], g)
    grad_x = grad_pad[:, :, ph:x_pad_shape[2] - ph, pw:x_pad_shape[3] - pw]
    return grad_x, grad_w, g.sum(axis=(0, 2, 3))


# Column bytes per image: C*kh*kw * OH*OW * 4 or 8. The first two cases have one image per chunk (27 * 30000
# * 4 bytes is over the budget); LeNet's second layer (150 * 100) has 4 float32 or 2 float64 images per chunk,
# so a batch of 7 runs as 4 + 3 or 2 + 2 + 2 + 1; the d2l LeNet's first (25 * 784, padding 2) and LeNet-5's
# first (25 * 784, no padding) have 3 or 1.
CASES = [
    # (N, C, H, W), (O, kh, kw), stride, padding
    ((3, 3, 152, 202), (4, 3, 3), (1, 1), (0, 0)),
    ((3, 3, 299, 399), (2, 3, 3), (2, 2), (1, 1)),
    ((7, 6, 14, 14), (16, 5, 5), (1, 1), (0, 0)),
    ((5, 1, 28, 28), (6, 5, 5), (1, 1), (2, 2)),
    ((5, 1, 32, 32), (6, 5, 5), (1, 1), (0, 0)),  # LeNet-5's first layer: unpadded rows of 28
    ((2, 2, 9, 40), (3, 2, 5), (1, 1), (0, 0)),   # unpadded, stride 1, rows of 36 (the runtime-width copy)
]


@pytest.mark.parametrize("dtype, np_dtype, tol", [(gdcore.float64, np.float64, 1e-10),
                                                  (gdcore.float32, np.float32, 2e-4)])
@pytest.mark.parametrize("xshape, wshape, stride, padding", CASES)
def test_chunked_conv_matches_numpy(xshape, wshape, stride, padding, dtype, np_dtype, tol):
    rng = np.random.default_rng(sum(xshape))
    o, kh, kw = wshape
    x = rng.uniform(-1, 1, xshape).astype(np_dtype)
    w = rng.uniform(-1, 1, (o, xshape[1], kh, kw)).astype(np_dtype)
    b = rng.uniform(-1, 1, o).astype(np_dtype)
    y_ref, win, pad_shape = conv_reference(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                                           stride, padding)
    g = rng.uniform(-1, 1, y_ref.shape).astype(np_dtype)
    gx_ref, gw_ref, gb_ref = conv_grads(win, pad_shape, w.astype(np.float64), g.astype(np.float64), stride, padding)

    xt = gdcore.tensor(x, requires_grad=True)
    wt = gdcore.tensor(w, requires_grad=True)
    bt = gdcore.tensor(b, requires_grad=True)
    y = F.conv2d(xt, wt, bt, stride, padding)
    assert y.dtype == dtype and y.shape == y_ref.shape
    np.testing.assert_allclose(y.detach().numpy(), y_ref, rtol=0, atol=tol)
    y.backward(gdcore.tensor(g))
    np.testing.assert_allclose(xt.grad.numpy(), gx_ref, rtol=0, atol=tol)
    # The weight gradient sums over every sample and position: 3 * 30000 terms.
    np.testing.assert_allclose(wt.grad.numpy(), gw_ref, rtol=0, atol=tol * 100)
    np.testing.assert_allclose(bt.grad.numpy(), gb_ref, rtol=0, atol=tol * 100)
