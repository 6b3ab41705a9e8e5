"""The convolutions' chunk loop split over gdcore's kernel threads (cpp/src/ops/conv.cpp, over_chunks):
each thread takes a run of 256 KiB column chunks with its own scratch, OpenBLAS single-threaded inside,
and the weight gradient adds one partial product per chunk in chunk order. So the forward pass and both
gradients must be the same bits with 1 and 2 kernel threads (and whatever OpenBLAS's own thread count),
on every SIMD path, and match numpy float64 loops (test_ops_conv_gemm's closed forms), never gdcore itself.
The passes around the convolutions split the same way: average pooling plane by plane, the bias gradient
channel by channel; and matrix products under 2^24 multiply-adds run OpenBLAS on the calling thread.
"""
import numpy as np
import pytest

import gdcore
from gdcore import _core
from gdcore.autograd import gradcheck
from gdcore.nn import functional as F
from test_ops_conv_gemm import conv_grads, conv_reference


# Shapes with several chunks and at least 2**21 multiply-adds per op (the split's threshold):
# the d2l LeNet's two layers at batch 24 (float32: 3 and 4 images per chunk, 8 and 6 chunks,
# float64 half as many images), and a strided, padded layer with one image per chunk.
CASES = [
    # (N, C, H, W), (O, kh, kw), stride, padding
    ((24, 1, 28, 28), (6, 5, 5), (1, 1), (2, 2)),
    ((24, 6, 14, 14), (16, 5, 5), (1, 1), (0, 0)),
    ((5, 3, 70, 90), (8, 3, 3), (2, 1), (1, 2)),
]


def conv_and_grads(x, w, b, g, stride, padding):
    xt, wt, bt = (gdcore.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(xt, wt, bt, stride, padding)
    y.backward(gdcore.tensor(g))
    return [t.numpy() for t in (y.detach(), xt.grad, wt.grad, bt.grad)]


@pytest.mark.parametrize("np_dtype, tol", [(np.float32, 2e-4), (np.float64, 1e-10)])
@pytest.mark.parametrize("xshape, wshape, stride, padding", CASES)
def test_conv_split_over_threads_is_bit_identical_and_matches_numpy(on_path, xshape, wshape, stride, padding,
                                                                    np_dtype, tol):
    rng = np.random.default_rng(sum(xshape))
    o, kh, kw = wshape
    x = rng.uniform(-1, 1, xshape).astype(np_dtype)
    w = rng.uniform(-1, 1, (o, xshape[1], kh, kw)).astype(np_dtype)
    b = rng.uniform(-1, 1, o).astype(np_dtype)
    y_ref, win, pad_shape = conv_reference(*(a.astype(np.float64) for a in (x, w, b)), stride, padding)
    g = rng.uniform(-1, 1, y_ref.shape).astype(np_dtype)
    refs = [y_ref, *conv_grads(win, pad_shape, w.astype(np.float64), g.astype(np.float64), stride, padding)]

    runs = []
    for kernel_threads, blas_threads in [(1, 1), (2, 1), (2, 2), (1, 2)]:
        _core._set_kernel_threads(kernel_threads)
        _core._set_blas_threads(blas_threads)
        runs.append(conv_and_grads(x, w, b, g, stride, padding))
    for run in runs[1:]:
        for got, first in zip(run, runs[0]):
            assert got.dtype == np_dtype and got.tobytes() == first.tobytes()
    # The weight and bias gradients sum over every sample and position (up to 24 * 784 terms).
    for got, ref, scale in zip(runs[0], refs, [1, 1, 100, 100]):
        np.testing.assert_allclose(got, ref, rtol=0, atol=tol * scale)


def test_conv_leaves_openblas_thread_count_as_it_was():
    blas = _core._blas_threads()
    try:
        _core._set_blas_threads(2)
        x = gdcore.randn(24, 6, 14, 14, requires_grad=True)
        w = gdcore.randn(16, 6, 5, 5, requires_grad=True)
        F.conv2d(x, w).sum().backward()
        assert _core._blas_threads() == 2
    finally:
        _core._set_blas_threads(blas)


@pytest.mark.parametrize("threads", [1, 2])
def test_chunked_conv_gradcheck_float64(threads):
    # float64, 18 x 18 positions by 50 rows: two images per 256 KiB chunk, so chunks of 2 + 1 whose
    # weight-gradient partials are added in order; the two adjoint ops (second order) too.
    before = _core._kernel_threads()
    _core._set_kernel_threads(threads)
    try:
        rng = np.random.default_rng(threads)
        x = gdcore.tensor(rng.normal(size=(3, 2, 22, 22)), requires_grad=True)
        w = gdcore.tensor(rng.normal(size=(2, 2, 5, 5)), requires_grad=True)
        b = gdcore.tensor(rng.normal(size=2), requires_grad=True)
        assert gradcheck(lambda x, w, b: F.conv2d(x, w, b), (x, w, b))
        g = gdcore.tensor(rng.normal(size=(3, 2, 18, 18)), requires_grad=True)
        assert gradcheck(lambda x, g: _core._conv2d_weight_grad(x, g, [2, 2, 5, 5], [1, 1], [0, 0]), (x, g))
        assert gradcheck(lambda g, w: _core._conv2d_input_grad(g, w, [3, 2, 22, 22], [1, 1], [0, 0]), (g, w))
    finally:
        _core._set_kernel_threads(before)


@pytest.mark.parametrize("kernel, stride, padding, include_pad", [(2, 2, 0, True), (3, 2, 1, False), (3, 1, 1, True)])
def test_avg_pool_split_over_planes_is_bit_identical_and_matches_numpy(on_path, kernel, stride, padding, include_pad):
    rng = np.random.default_rng(kernel + stride)
    x = rng.normal(size=(64, 6, 28, 28)).astype(np.float32)  # 1.2M elements in and out: over the split's threshold
    runs = []
    for threads in (1, 2):
        _core._set_kernel_threads(threads)
        xt = gdcore.tensor(x, requires_grad=True)
        y = F.avg_pool2d(xt, kernel, stride, padding, count_include_pad=include_pad)
        g = gdcore.tensor(rng.normal(size=tuple(y.shape)).astype(np.float32)) if not runs else runs[0][2]
        y.backward(g)
        runs.append((y.detach().numpy(), xt.grad.numpy(), g))
    assert runs[0][0].tobytes() == runs[1][0].tobytes() and runs[0][1].tobytes() == runs[1][1].tobytes()
    # numpy: the mean over each window of the zero-padded input (divided by the window's in-plane count
    # without count_include_pad); the gradient spreads each window's share back onto its pixels.
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ones = np.pad(np.ones(x.shape[2:]), padding)
    win = np.lib.stride_tricks.sliding_window_view(xp, (kernel, kernel), axis=(2, 3))[:, :, ::stride, ::stride]
    count = np.lib.stride_tricks.sliding_window_view(ones, (kernel, kernel))[::stride, ::stride].sum(axis=(2, 3))
    divisor = kernel * kernel if include_pad else count
    np.testing.assert_allclose(runs[0][0], win.sum(axis=(4, 5)) / divisor, rtol=0, atol=1e-5)
    share = runs[0][2].numpy().astype(np.float64) / divisor
    grad = np.zeros(xp.shape)
    oh, ow = share.shape[2:]
    for p in range(kernel):
        for q in range(kernel):
            grad[:, :, p:p + stride * oh:stride, q:q + stride * ow:stride] += share
    np.testing.assert_allclose(runs[0][1], grad[:, :, padding:padding + 28, padding:padding + 28], rtol=0, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_bias_grad_split_over_channels_is_bit_identical(dtype):
    before = _core._kernel_threads()
    rng = np.random.default_rng(5)
    g = rng.normal(size=(256, 6, 28, 28)).astype(dtype)  # the d2l LeNet's first layer: 1.2M elements
    try:
        grads = []
        for threads in (1, 2):
            _core._set_kernel_threads(threads)
            b = gdcore.zeros(6, dtype=gdcore.float32 if dtype == np.float32 else gdcore.float64, requires_grad=True)
            x = gdcore.zeros(256, 1, 28, 28, dtype=b.dtype)
            w = gdcore.zeros(6, 1, 5, 5, dtype=b.dtype)
            F.conv2d(x, w, b, padding=2).backward(gdcore.tensor(g))
            grads.append(b.grad.numpy())
    finally:
        _core._set_kernel_threads(before)
    assert grads[0].tobytes() == grads[1].tobytes()
    np.testing.assert_allclose(grads[0], g.astype(np.float64).sum(axis=(0, 2, 3)), rtol=1e-6)


@pytest.mark.parametrize("shape", [(256, 400, 120), (64, 64, 65)])
def test_matmul_under_2_24_multiply_adds_same_bits_whatever_openblas_threads(shape):
    # (The d2l LeNet's first Linear layer, and a product just over OpenBLAS's own 2^18 threshold.)
    m, k, n = shape
    rng = np.random.default_rng(m + k + n)
    a, b = rng.normal(size=(m, k)).astype(np.float32), rng.normal(size=(k, n)).astype(np.float32)
    blas = _core._blas_threads()
    try:
        outs = []
        for threads in (1, 2):
            _core._set_blas_threads(threads)
            outs.append((gdcore.tensor(a) @ gdcore.tensor(b)).numpy())
            assert _core._blas_threads() == threads
    finally:
        _core._set_blas_threads(blas)
    assert outs[0].tobytes() == outs[1].tobytes()
    np.testing.assert_allclose(outs[0], a.astype(np.float64) @ b.astype(np.float64), rtol=0, atol=1e-3)


def test_d2l_lenet_steps_same_bits_eager_compiled_and_threads(on_path):
    # Batch 24: both convolutions split their chunks over the threads (2.8M and 5.8M multiply-adds).
    from gdcore import optim
    from gdcore.workflows.classification import lenet
    gen = gdcore.Generator(3)
    batches = [(gdcore.randn(24, 1, 28, 28, generator=gen), gdcore.randint(0, 10, (24,), generator=gen))
               for _ in range(3)]
    runs = []
    for threads in (1, 2):
        _core._set_kernel_threads(threads)
        for compiled in (False, True):
            gdcore.manual_seed(0)
            model = lenet()
            optimizer = optim.SGD(model.parameters(), lr=0.9)

            def step(x, y):
                optimizer.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                optimizer.step()
                return loss
            run = gdcore.compile(step) if compiled else step
            losses = [run(x, y).detach().numpy().tobytes() for x, y in batches]
            runs.append((losses, [p.detach().numpy().tobytes() for p in model.parameters()]))
    assert all(run == runs[0] for run in runs[1:])
