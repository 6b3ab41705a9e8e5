"""Matrix products through the BLAS kernel (cpp/src/kernels/gemm.cpp): mm, bmm, matmul and their
gradients on every operand layout the kernel handles differently, against numpy in float64.

The kernel takes OpenBLAS for products of 512 multiply-adds or more (except a single row times a
matrix with contiguous rows, and dot products, which stay on the plain loop), hands transposed
views and column slices to BLAS as they are, and packs only layouts BLAS cannot read (stride 0 from
expand, steps > 1). The sizes below put each case on each side of those lines.
"""
import numpy as np
import pytest

import gdcore

DTYPES = [(gdcore.float32, np.float32), (gdcore.float64, np.float64)]

# (m, k, n): tiny (plain loop), one row / one column / dot product, and BLAS-sized, non-square.
SHAPES = [
    (3, 4, 5),        # 60 multiply-adds: plain loop
    (1, 40, 70),      # one row, B rows contiguous: plain loop
    (70, 40, 1),      # one column: BLAS
    (1, 300, 1),      # dot product: plain loop
    (8, 8, 8),        # the smallest BLAS product
    (37, 129, 65),    # odd sizes: BLAS edge kernels
    (200, 3, 150),    # small inner dimension
]


def tolerance(k, np_dtype):
    """Absolute tolerance for a k-term sum of products of numbers in [-1, 1]."""
    return 8 * max(k, 1) * np.finfo(np_dtype).eps


def reference(a, b):
    return a.astype(np.float64) @ b.astype(np.float64)


def layouts(x):
    """(name, gdcore tensor, the numbers it holds) for x stored in each layout the kernel treats apart."""
    rows, cols = x.shape
    t = gdcore.tensor(x)
    wide = np.zeros((rows, cols + 3), dtype=x.dtype)
    wide[:, 1:cols + 1] = x
    doubled = np.zeros((2 * rows, 2 * cols), dtype=x.dtype)
    doubled[::2, ::2] = x
    return [
        ("contiguous", t),
        ("transposed view", gdcore.tensor(np.ascontiguousarray(x.T)).t()),        # row stride 1
        ("column slice", gdcore.tensor(wide)[:, 1:cols + 1]),                      # row stride > cols
        ("transposed slice", gdcore.tensor(np.ascontiguousarray(wide.T))[1:cols + 1].t()),  # column stride > rows
        ("step-2 slice", gdcore.tensor(doubled)[::2, ::2]),                        # packed first
    ]


@pytest.mark.parametrize("gd_dtype, np_dtype", DTYPES)
@pytest.mark.parametrize("m, k, n", SHAPES)
def test_mm_matches_numpy_on_every_layout(m, k, n, gd_dtype, np_dtype):
    rng = np.random.default_rng(m * 10007 + k * 101 + n)
    a = rng.uniform(-1, 1, (m, k)).astype(np_dtype)
    b = rng.uniform(-1, 1, (k, n)).astype(np_dtype)
    expected = reference(a, b)
    for name_a, ta in layouts(a):
        for name_b, tb in layouts(b):
            got = gdcore.mm(ta, tb)
            assert got.dtype == gd_dtype and got.shape == (m, n)
            np.testing.assert_allclose(got.numpy(), expected, rtol=0, atol=tolerance(k, np_dtype),
                                       err_msg=f"A {name_a}, B {name_b}")


@pytest.mark.parametrize("gd_dtype, np_dtype", DTYPES)
def test_expanded_operands_are_read_correctly(gd_dtype, np_dtype):
    """expand gives stride 0, which BLAS cannot take: the kernel packs such operands first."""
    rng = np.random.default_rng(1)
    row = rng.uniform(-1, 1, (1, 64)).astype(np_dtype)
    col = rng.uniform(-1, 1, (64, 1)).astype(np_dtype)
    a = gdcore.tensor(row).expand(48, 64)         # every row the same, row stride 0
    b = gdcore.tensor(col).expand(64, 32)         # every column the same, column stride 0
    expected = reference(np.repeat(row, 48, 0), np.repeat(col, 32, 1))
    np.testing.assert_allclose((a @ b).numpy(), expected, rtol=0, atol=tolerance(64, np_dtype))


@pytest.mark.parametrize("gd_dtype, np_dtype", DTYPES)
def test_large_products_match_numpy(gd_dtype, np_dtype):
    rng = np.random.default_rng(2)
    a = rng.uniform(-1, 1, (300, 257)).astype(np_dtype)
    b = rng.uniform(-1, 1, (257, 190)).astype(np_dtype)
    got = gdcore.tensor(a) @ gdcore.tensor(b)
    np.testing.assert_allclose(got.numpy(), reference(a, b), rtol=0, atol=tolerance(257, np_dtype))
    got_t = gdcore.tensor(np.ascontiguousarray(b.T)).t().t() @ gdcore.tensor(np.ascontiguousarray(a.T))
    np.testing.assert_allclose(got_t.numpy(), reference(b.T, a.T), rtol=0, atol=tolerance(257, np_dtype))


@pytest.mark.parametrize("a_shape, b_shape", [
    ((0, 300), (300, 200)),     # m = 0
    ((300, 200), (200, 0)),     # n = 0
    ((300, 0), (0, 200)),       # k = 0: a matrix of zeros
    ((4, 2, 0), (4, 0, 3)),     # k = 0, batched
    ((0, 5, 6), (0, 6, 7)),     # no matrices
])
def test_empty_dimensions(a_shape, b_shape):
    a = gdcore.ones(*a_shape, requires_grad=True)
    b = gdcore.ones(*b_shape, requires_grad=True)
    out = a @ b
    expected = np.ones(a_shape) @ np.ones(b_shape)
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    out.sum().backward()
    # d(sum(A @ B))/dA = 1 @ B^T: each entry sums one row of B (empty sums are 0).
    np.testing.assert_array_equal(a.grad.numpy(), np.ones(expected.shape) @ np.swapaxes(np.ones(b_shape), -1, -2))
    np.testing.assert_array_equal(b.grad.numpy(), np.swapaxes(np.ones(a_shape), -1, -2) @ np.ones(expected.shape))


@pytest.mark.parametrize("gd_dtype, np_dtype", DTYPES)
def test_mm_gradients_match_the_closed_form(gd_dtype, np_dtype):
    """d(sum(G * (A @ B)))/dA = G @ B^T and /dB = A^T @ G, at a size that takes BLAS."""
    rng = np.random.default_rng(3)
    a_np = rng.uniform(-1, 1, (40, 70)).astype(np_dtype)
    b_np = rng.uniform(-1, 1, (70, 30)).astype(np_dtype)
    g_np = rng.uniform(-1, 1, (40, 30)).astype(np_dtype)
    a = gdcore.tensor(a_np, requires_grad=True)
    b = gdcore.tensor(b_np, requires_grad=True)
    (a @ b).backward(gdcore.tensor(g_np))
    np.testing.assert_allclose(a.grad.numpy(), reference(g_np, b_np.T), rtol=0, atol=tolerance(30, np_dtype))
    np.testing.assert_allclose(b.grad.numpy(), reference(a_np.T, g_np), rtol=0, atol=tolerance(40, np_dtype))


@pytest.mark.parametrize("gd_dtype, np_dtype", DTYPES)
def test_bmm_and_broadcast_matmul_match_numpy(gd_dtype, np_dtype):
    rng = np.random.default_rng(4)
    a = rng.uniform(-1, 1, (5, 33, 20)).astype(np_dtype)
    b = rng.uniform(-1, 1, (5, 20, 17)).astype(np_dtype)
    tol = tolerance(20, np_dtype)
    np.testing.assert_allclose(gdcore.bmm(gdcore.tensor(a), gdcore.tensor(b)).numpy(), reference(a, b), rtol=0, atol=tol)
    # Transposed inside each batch (a permuted view): no copy needed, same numbers.
    bt = gdcore.tensor(np.ascontiguousarray(np.swapaxes(b, 1, 2))).transpose(1, 2)
    np.testing.assert_allclose(gdcore.bmm(gdcore.tensor(a), bt).numpy(), reference(a, b), rtol=0, atol=tol)
    # Broadcast batch: (3, 1, 33, 20) @ (5, 20, 17) -> (3, 5, 33, 17).
    a4 = rng.uniform(-1, 1, (3, 1, 33, 20)).astype(np_dtype)
    got = gdcore.tensor(a4) @ gdcore.tensor(b)
    np.testing.assert_allclose(got.numpy(), reference(a4, b), rtol=0, atol=tol)


def test_zero_times_inf_is_nan_on_the_blas_path():
    """0 * inf must be NaN (numpy and torch agree): BLAS may not skip zero entries."""
    a = gdcore.zeros(64, 64)
    b = gdcore.full((64, 64), float("inf"))
    assert np.isnan((a @ b).numpy()).all()
    c = gdcore.ones(64, 64)
    c[3, 5] = float("nan")
    out = (c @ gdcore.ones(64, 64)).numpy()
    assert np.isnan(out[3]).all() and not np.isnan(np.delete(out, 3, axis=0)).any()


def test_results_are_the_same_bits_every_time():
    rng = np.random.default_rng(5)
    a = gdcore.tensor(rng.standard_normal((257, 300)).astype(np.float32))
    b = gdcore.tensor(rng.standard_normal((300, 129)).astype(np.float32))
    first = (a @ b).numpy().tobytes()
    assert all((a @ b).numpy().tobytes() == first for _ in range(5))
