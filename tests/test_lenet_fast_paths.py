"""The fast paths behind the d2l LeNet step (issue 14): the float32 SIMD sigmoid
(kernels/simd/sigmoid_loop.hpp) and its one-pass backward (kernels/sigmoid.cpp), the 2x2/stride-2 average pooling loops and the L2-sized
convolution chunks (cpp/src/ops/conv.cpp), on every SIMD path this CPU runs.

Expected values come from numpy in float64 (the logistic function, window means by reshape);
the eager and the compiled (lowered) LeNet step must agree bit for bit on every path.
"""
import numpy as np
import pytest

import gdcore
from gdcore import _core, optim
from gdcore.autograd import gradcheck
from gdcore.nn import functional as F
from gdcore.workflows.classification import lenet


SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 15.0, -15.0, 87.0, -87.0, 88.5, -88.5,
                    100.0, -100.0, 1e30, -1e30], np.float32)


@pytest.mark.parametrize("n", [1, 15, 17, 1000, 2**17 + 5])
def test_sigmoid_float32_matches_numpy_on_every_path(on_path, n):
    x = np.concatenate([np.random.default_rng(n).normal(scale=8, size=n).astype(np.float32), SPECIAL])
    got = gdcore.tensor(x).sigmoid().numpy()
    with np.errstate(over="ignore"):
        ref = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    # As 1 / (1 + expf(-x)) in float32 (the formula of the float64 path): a few units of rounding where
    # the result is a normal float; below that (subnormal, or 0 once expf(-x) overflows) within the
    # smallest normal float; NaN for NaN.
    tiny = np.finfo(np.float32).tiny
    normal = ref >= tiny
    np.testing.assert_allclose(got[normal], ref[normal], rtol=4 * np.finfo(np.float32).eps, atol=0)
    small = ~normal & ~np.isnan(x)
    assert (np.abs(got[small] - ref[small]) <= tiny).all() and (got[small] >= 0).all()
    assert np.isnan(got[np.isnan(x)]).all() and got[x == np.inf][0] == 1.0 and got[x == -np.inf][0] == 0.0


def test_sigmoid_float32_split_over_threads_is_bit_identical(on_path):
    x = gdcore.tensor(np.random.default_rng(1).normal(scale=5, size=2**18 + 3).astype(np.float32))
    _core._set_kernel_threads(1)
    one = x.sigmoid().numpy()
    _core._set_kernel_threads(2)
    assert one.tobytes() == x.sigmoid().numpy().tobytes()


def test_sigmoid_noncontiguous_and_float64_keep_the_plain_loop():
    x = np.random.default_rng(2).normal(size=(6, 5))
    ref = 1.0 / (1.0 + np.exp(-x))
    np.testing.assert_allclose(gdcore.tensor(x).sigmoid().numpy(), ref, rtol=1e-15)
    t = gdcore.tensor(x.astype(np.float32)).t()  # a transposed view: not contiguous
    np.testing.assert_allclose(t.sigmoid().numpy(), ref.T, rtol=1e-6)
    assert gradcheck(gdcore.sigmoid, (gdcore.tensor(x, requires_grad=True),))


@pytest.mark.parametrize("np_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [7, 2**20 + 77])
def test_sigmoid_backward_one_pass_matches_the_composed_ops_and_numpy(on_path, np_dtype, n):
    # Without create_graph the backward is one loop; with it, the three differentiable ops
    # g * (y * (1 - y)). Both must give the same bits, with 1 and 2 kernel threads.
    rng = np.random.default_rng(n)
    x = np.concatenate([rng.normal(scale=6, size=n), [np.nan, np.inf, -np.inf, 0.0]]).astype(np_dtype)
    g = rng.normal(size=x.size).astype(np_dtype)
    grads = []
    for threads, create_graph in [(1, False), (2, False), (2, True)]:
        _core._set_kernel_threads(threads)
        xt = gdcore.tensor(x, requires_grad=True)
        (gx,) = gdcore.autograd.grad(xt.sigmoid(), [xt], grad_outputs=[gdcore.tensor(g)], create_graph=create_graph)
        assert gx.requires_grad == create_graph
        grads.append(gx.detach().numpy())
    assert grads[0].tobytes() == grads[1].tobytes() == grads[2].tobytes()
    y = gdcore.tensor(x).sigmoid().numpy().astype(np.float64)  # the forward is tested above
    ref = g.astype(np.float64) * (y * (1 - y))
    finite = np.isfinite(ref)
    np.testing.assert_allclose(grads[0][finite], ref[finite], rtol=4 * np.finfo(np_dtype).eps, atol=1e-300)
    assert np.isnan(grads[0][~finite]).all() == np.isnan(ref[~finite]).all()


@pytest.mark.parametrize("dtype, np_dtype, rtol", [(gdcore.float32, np.float32, 1e-6),
                                                   (gdcore.float64, np.float64, 1e-14)])
@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (3, 2, 7, 9), (1, 1, 2, 2), (256, 6, 28, 28)])
def test_avg_pool_2x2_stride_2_matches_numpy(shape, dtype, np_dtype, rtol):
    rng = np.random.default_rng(sum(shape))
    x = rng.normal(size=shape).astype(np_dtype)
    n, c, h, w = shape
    oh, ow = h // 2, w // 2
    ref = x[:, :, :2 * oh, :2 * ow].astype(np.float64).reshape(n, c, oh, 2, ow, 2).mean(axis=(3, 5))
    xt = gdcore.tensor(x, requires_grad=True)
    y = F.avg_pool2d(xt, 2, 2)
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=0, atol=rtol * 4)  # a sum of 4 terms of size ~1
    g = rng.normal(size=ref.shape).astype(np_dtype)
    y.backward(gdcore.tensor(g))
    grad_ref = np.zeros(shape)  # each window's gradient spread evenly; rows/columns past the last window get 0
    grad_ref[:, :, :2 * oh, :2 * ow] = np.repeat(np.repeat(g.astype(np.float64) / 4, 2, axis=2), 2, axis=3)
    np.testing.assert_allclose(xt.grad.numpy(), grad_ref, rtol=0, atol=rtol)


def test_avg_pool_2x2_stride_2_gradcheck_and_second_order():
    x = gdcore.tensor(np.random.default_rng(3).normal(size=(2, 2, 5, 6)), requires_grad=True)
    assert gradcheck(lambda t: F.avg_pool2d(t, 2, 2), (x,))
    assert gradcheck(lambda t: F.avg_pool2d(t * t, 2) * 3, (x,))


def test_d2l_lenet_eager_and_compiled_bit_identical_on_every_path(on_path):
    # Batch 9: the first convolution (padding 2, float32) unfolds 3 images per 256 KiB chunk and
    # the second 4, so both run several chunks, the last one partial.
    gen = gdcore.Generator(7)
    batches = [(gdcore.randn(9, 1, 28, 28, generator=gen), gdcore.randint(0, 10, (9,), generator=gen))
               for _ in range(3)]
    runs = []
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
    assert runs[0] == runs[1]
