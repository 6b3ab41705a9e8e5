"""The convolutions' chunk loop split over gdcore's kernel threads (cpp/src/ops/conv.cpp, over_chunks):
each thread takes a run of 256 KiB column chunks with its own scratch, OpenBLAS single-threaded inside,
and the weight gradient adds one partial product per chunk in chunk order. So the forward pass and both
gradients must be the same bits with 1 and 2 kernel threads (and whatever OpenBLAS's own thread count),
on every SIMD path, and match numpy float64 loops (test_ops_conv_gemm's closed forms), never gdcore itself.
"""
import numpy as np
import pytest

import gdcore
from gdcore import _core
from gdcore.autograd import gradcheck
from gdcore.nn import functional as F
from test_ops_conv_gemm import conv_grads, conv_reference

PATHS = _core.simd_paths()

# Shapes with several chunks and at least 2**21 multiply-adds per op (the split's threshold):
# the d2l LeNet's two layers at batch 24 (float32: 3 and 4 images per chunk, 8 and 6 chunks,
# float64 half as many images), and a strided, padded layer with one image per chunk.
CASES = [
    # (N, C, H, W), (O, kh, kw), stride, padding
    ((24, 1, 28, 28), (6, 5, 5), (1, 1), (2, 2)),
    ((24, 6, 14, 14), (16, 5, 5), (1, 1), (0, 0)),
    ((5, 3, 70, 90), (8, 3, 3), (2, 1), (1, 2)),
]


@pytest.fixture
def on_path(request):
    """Runs the test on the SIMD path given by the parameter, then restores it and the thread counts."""
    before, threads, blas = _core.simd_path(), _core._kernel_threads(), _core._blas_threads()
    _core._set_simd_path(request.param)
    yield request.param
    _core._set_simd_path(before)
    _core._set_kernel_threads(threads)
    _core._set_blas_threads(blas)


def conv_and_grads(x, w, b, g, stride, padding):
    xt, wt, bt = (gdcore.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(xt, wt, bt, stride, padding)
    y.backward(gdcore.tensor(g))
    return [t.numpy() for t in (y.detach(), xt.grad, wt.grad, bt.grad)]


@pytest.mark.parametrize("on_path", PATHS, indirect=True)
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
