"""The small-product kernel of the SIMD paths (cpp/src/kernels/simd/small_gemm_loops.hpp), which takes
the products of a few tens of thousands of multiply-adds (a classification MLP's layers) off OpenBLAS.

On every SIMD path (GDCORE_SIMD=scalar/avx2/avx512 through _set_simd_path), in float32 and float64:
- against numpy in float64 (a tolerance), for every operand layout matmul, Linear and their backward use
  (A, A^T, B, B^T through strides) and more (wide rows, step-2 slices, stride 0, negative strides), over
  sizes on both sides of each vector width and tile (1..33) and k = 0;
- bit for bit against the documented order, written out in Python: one chain over k of multiply-adds,
  each rounded once on avx2/avx512 (exact rational arithmetic, rounded by hand) and twice on scalar;
- the same bits whatever the layout, the thread counts, and between an eager and a compiled MLP step.
"""
from fractions import Fraction

import numpy as np
import pytest

import gdcore
from gdcore import _core, nn, optim
from gdcore.nn import functional as F

PATHS = _core.simd_paths()
DTYPES = [(gdcore.float32, np.float32), (gdcore.float64, np.float64)]
DTYPE_IDS = ["float32", "float64"]


@pytest.fixture(params=PATHS)
def on_path(request):
    before = _core.simd_path()
    _core._set_simd_path(request.param)
    yield request.param
    _core._set_simd_path(before)


def stored(x: np.ndarray, layout: str):
    """A gdcore view with the values of the 2-d array x, stored in `layout`."""
    rows, cols = x.shape
    if layout == "contiguous":
        return gdcore.tensor(np.ascontiguousarray(x))
    if layout == "transposed":  # x.T stored contiguously, viewed back: unit row stride
        return gdcore.tensor(np.ascontiguousarray(x.T)).t()
    if layout == "wide rows":  # rows padded by 3 (a slice of a wider matrix)
        wide = np.zeros((rows, cols + 3), dtype=x.dtype)
        wide[:, :cols] = x
        return gdcore.tensor(wide)[:, :cols]
    if layout == "step 2":  # every other column and row of a bigger matrix
        big = np.zeros((2 * rows, 2 * cols), dtype=x.dtype)
        big[::2, ::2] = x
        return gdcore.tensor(big)[::2, ::2]
    if layout == "flipped":  # negative strides
        return gdcore.tensor(np.ascontiguousarray(x[::-1, ::-1])).flip(0, 1)
    raise AssertionError(layout)


LAYOUTS = ["contiguous", "transposed", "wide rows", "step 2"]


def check_close(got: np.ndarray, a: np.ndarray, b: np.ndarray, start=None):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    expected = a64 @ b64 + (0.0 if start is None else start.astype(np.float64))
    eps = np.finfo(got.dtype).eps
    k = a.shape[1]
    bound = (k + 2) * eps * (np.abs(a64) @ np.abs(b64) + (0.0 if start is None else np.abs(start))) + 1e-300
    assert got.shape == expected.shape
    assert np.all(np.abs(got.astype(np.float64) - expected) <= bound), (a.shape, b.shape)


def sizes():
    """(m, n, k): every m and n from 1 to 33 (both sides of widths 4, 8, 16, of the tiles' 4, 6, 8 rows
    and of the panels' 8, 16, 32 columns), k from 0 to 33 and a few deeper ones."""
    out = [(m, (7 * m) % 33 + 1, (5 * m) % 34) for m in range(1, 34)]
    out += [((3 * n) % 33 + 1, n, (11 * n) % 34) for n in range(1, 34)]
    out += [(32, 32, 20), (32, 5, 32), (20, 32, 32), (32, 32, 5), (5, 40, 70), (9, 17, 257), (2, 3, 300)]
    return out


@pytest.mark.parametrize("dtype, np_dtype", DTYPES, ids=DTYPE_IDS)
def test_every_layout_and_size_matches_numpy(on_path, dtype, np_dtype):
    rng = np.random.default_rng(0)
    for m, n, k in sizes():
        a = rng.standard_normal((m, k)).astype(np_dtype)
        b = rng.standard_normal((k, n)).astype(np_dtype)
        for la in LAYOUTS:
            for lb in LAYOUTS:
                got = _core._small_mm(stored(a, la), stored(b, lb)).numpy()
                check_close(got, a, b)


@pytest.mark.parametrize("dtype, np_dtype", DTYPES, ids=DTYPE_IDS)
def test_stride_zero_and_negative_strides(on_path, dtype, np_dtype):
    rng = np.random.default_rng(1)
    for m, n, k in [(5, 17, 9), (32, 32, 20), (7, 3, 40)]:
        row = rng.standard_normal((1, k)).astype(np_dtype)
        a_expanded = gdcore.tensor(row).expand(m, k)  # every row the same (row stride 0)
        b = rng.standard_normal((k, n)).astype(np_dtype)
        col = rng.standard_normal((k, 1)).astype(np_dtype)
        b_expanded = gdcore.tensor(col).expand(k, n)  # column stride 0: the packed panel
        check_close(_core._small_mm(a_expanded, stored(b, "contiguous")).numpy(), np.repeat(row, m, 0), b)
        a = rng.standard_normal((m, k)).astype(np_dtype)
        check_close(_core._small_mm(stored(a, "flipped"), b_expanded).numpy(), a, np.repeat(col, n, 1))
        check_close(_core._small_mm(stored(a, "flipped"), stored(b, "flipped")).numpy(), a, b)


@pytest.mark.parametrize("dtype, np_dtype", DTYPES, ids=DTYPE_IDS)
def test_accumulate_adds_into_out(on_path, dtype, np_dtype):
    rng = np.random.default_rng(2)
    for m, n, k in [(1, 2, 3), (7, 9, 5), (33, 17, 20), (6, 16, 0), (32, 5, 32)]:
        a = rng.standard_normal((m, k)).astype(np_dtype)
        b = rng.standard_normal((k, n)).astype(np_dtype)
        start = rng.standard_normal((m, n)).astype(np_dtype)
        for lb in ("contiguous", "transposed"):
            out = gdcore.tensor(start.copy())
            returned = _core._small_mm(stored(a, "transposed"), stored(b, lb), out=out)
            assert returned is out
            check_close(out.numpy(), a, b, start)


def test_k_zero_gives_zeros_and_leaves_out_unchanged(on_path):
    a, b = gdcore.zeros(5, 0), gdcore.zeros(0, 17)
    assert np.array_equal(_core._small_mm(a, b).numpy(), np.zeros((5, 17), np.float32))
    out = gdcore.full((5, 17), 2.5)
    _core._small_mm(a, b, out=out)
    assert np.array_equal(out.numpy(), np.full((5, 17), 2.5, np.float32))


def test_zero_times_inf_is_nan(on_path):
    a = gdcore.zeros(9, 20)
    b = gdcore.full((20, 18), float("inf"))
    assert np.isnan(_core._small_mm(a, b).numpy()).all()
    assert np.isnan(_core._small_mm(a, b.t().contiguous().t()).numpy()).all()  # the packed panel too


# ---- the documented order, bit for bit ---------------------------------------------------------------

def round_to(x: Fraction, np_dtype) -> float:
    """x rounded to the nearest np_dtype number, ties to even (x exact, so rounded once)."""
    near = np_dtype(float(x))  # within one unit of the answer (float32: possibly rounded twice)
    if not np.isfinite(near):
        return near
    candidates = [np.nextafter(near, np_dtype(-np.inf)), near, np.nextafter(near, np_dtype(np.inf))]
    best = min(candidates, key=lambda c: (abs(Fraction(float(c)) - x),
                                          int(np.array(c).view(np.uint32 if np_dtype == np.float32 else np.uint64)) & 1))
    return best


def documented_product(a: np.ndarray, b: np.ndarray, fused: bool) -> np.ndarray:
    """C[i, j] = s with s = fma(A[i, k-1], B[k-1, j], ... fma(A[i, 0], B[0, j], 0)), each step rounded
    once (fused) or as a product then a sum, in the arrays' dtype."""
    t = a.dtype.type
    m, k = a.shape
    n = b.shape[1]
    c = np.empty((m, n), dtype=a.dtype)
    for i in range(m):
        for j in range(n):
            s = t(0)
            for p in range(k):
                if fused:
                    s = round_to(Fraction(float(a[i, p])) * Fraction(float(b[p, j])) + Fraction(float(s)), t)
                else:
                    s = t(t(a[i, p] * b[p, j]) + s)
            c[i, j] = s
    return c


@pytest.mark.parametrize("dtype, np_dtype", DTYPES, ids=DTYPE_IDS)
def test_bits_follow_the_documented_order(on_path, dtype, np_dtype):
    rng = np.random.default_rng(3)
    fused = on_path != "scalar"
    for m, n, k in [(7, 17, 6), (9, 5, 11), (1, 33, 4), (13, 3, 9)]:
        # values with full mantissas and mixed magnitudes, so that rounding order shows
        a = (rng.standard_normal((m, k)) * 10.0 ** rng.integers(-3, 4, (m, k))).astype(np_dtype)
        b = (rng.standard_normal((k, n)) * 10.0 ** rng.integers(-3, 4, (k, n))).astype(np_dtype)
        expected = documented_product(a, b, fused)
        for la, lb in [("contiguous", "contiguous"), ("contiguous", "transposed"), ("transposed", "contiguous"),
                       ("transposed", "transposed")]:
            got = _core._small_mm(stored(a, la), stored(b, lb)).numpy()
            assert got.tobytes() == expected.tobytes(), (m, n, k, la, lb)


@pytest.mark.parametrize("dtype, np_dtype", DTYPES, ids=DTYPE_IDS)
def test_same_bits_for_every_layout_and_thread_count(on_path, dtype, np_dtype):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((33, 40)).astype(np_dtype)
    b = rng.standard_normal((40, 35)).astype(np_dtype)
    first = _core._small_mm(stored(a, "contiguous"), stored(b, "contiguous")).numpy().tobytes()
    threads, blas = _core._kernel_threads(), _core._blas_threads()
    try:
        for count in (1, 2):
            _core._set_kernel_threads(count)
            _core._set_blas_threads(count)
            for la in LAYOUTS:
                for lb in LAYOUTS:
                    assert _core._small_mm(stored(a, la), stored(b, lb)).numpy().tobytes() == first
    finally:
        _core._set_kernel_threads(threads)
        _core._set_blas_threads(blas)


# ---- through matmul, Linear and a compiled step ------------------------------------------------------

@pytest.mark.parametrize("dtype, np_dtype", DTYPES, ids=DTYPE_IDS)
def test_matmul_takes_the_small_kernel_for_a_linear_layer(on_path, dtype, np_dtype):
    """x @ w.t() and both products of its backward have the kernel's bits (the gate sends them there)."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((32, 20)).astype(np_dtype)
    w = rng.standard_normal((32, 20)).astype(np_dtype)
    g = rng.standard_normal((32, 32)).astype(np_dtype)
    xt, wt, gt = gdcore.tensor(x), gdcore.tensor(w, requires_grad=True), gdcore.tensor(g)
    out = gdcore.matmul(xt, wt.t())
    assert out.detach().numpy().tobytes() == _core._small_mm(xt, wt.detach().t()).numpy().tobytes()
    check_close(out.detach().numpy(), x, w.T)
    out.backward(gt)
    expected = _core._small_mm(xt.t(), gt).t()  # the gradient of w.t() is x^T @ g, transposed back
    assert wt.grad.numpy().tobytes() == expected.contiguous().numpy().tobytes()
    check_close(wt.grad.numpy(), g.T, x)


def mlp_steps(compiled: bool, dtype, steps: int = 4):
    gdcore.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 5)).to(dtype)
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    run = gdcore.compile(step) if compiled else step
    gen = gdcore.Generator(3)
    x = gdcore.randn(32, 20, generator=gen, dtype=dtype)
    y = gdcore.randint(0, 5, (32,), generator=gen)
    losses = [run(x, y).detach().numpy().tobytes() for _ in range(steps)]
    return losses, [p.detach().numpy().tobytes() for p in model.parameters()]


@pytest.mark.parametrize("dtype", [gdcore.float32, gdcore.float64], ids=DTYPE_IDS)
def test_mlp_step_compiled_gives_the_eager_bits(on_path, dtype):
    assert mlp_steps(False, dtype) == mlp_steps(True, dtype)


# ---- bad input ---------------------------------------------------------------------------------------

def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="do not align: 3 != 4"):
        _core._small_mm(gdcore.zeros(2, 3), gdcore.zeros(4, 5))
    with pytest.raises(ValueError, match="2-d"):
        _core._small_mm(gdcore.zeros(2, 3, 4), gdcore.zeros(4, 5))
    with pytest.raises(ValueError, match="dtypes"):
        _core._small_mm(gdcore.zeros(2, 3), gdcore.zeros(3, 5, dtype=gdcore.float64))
    with pytest.raises(ValueError, match="float32 or float64"):
        _core._small_mm(gdcore.zeros(2, 3, dtype=gdcore.int64), gdcore.zeros(3, 5, dtype=gdcore.int64))
    with pytest.raises(ValueError, match=r"out must be a contiguous float32 tensor of shape \(2, 5\)"):
        _core._small_mm(gdcore.zeros(2, 3), gdcore.zeros(3, 5), out=gdcore.zeros(5, 2))
    with pytest.raises(ValueError, match="out must be a contiguous"):
        _core._small_mm(gdcore.zeros(2, 3), gdcore.zeros(3, 5), out=gdcore.zeros(5, 2).t())


# ---- the rest of a Linear layer: the bias row broadcast over the rows (ops/elementwise.hpp) ---------

@pytest.mark.parametrize("np_dtype", [np.float32, np.float64], ids=DTYPE_IDS)
def test_row_broadcast_over_rows_matches_numpy_bits(np_dtype):
    rng = np.random.default_rng(6)
    for rows, cols in [(32, 32), (32, 5), (1, 7), (3, 2)]:
        x = rng.standard_normal((rows, cols)).astype(np_dtype)
        for row in (rng.standard_normal(cols).astype(np_dtype), rng.standard_normal((1, cols)).astype(np_dtype)):
            gx, gr = gdcore.tensor(x), gdcore.tensor(row)
            assert (gx + gr).numpy().tobytes() == (x + row).tobytes()
            assert (gr - gx).numpy().tobytes() == (row - x).tobytes()
            assert (gx * gr).numpy().tobytes() == (x * row).tobytes()
    batched = rng.standard_normal((2, 3, 4)).astype(np_dtype)
    row = rng.standard_normal(4).astype(np_dtype)
    assert (gdcore.tensor(batched) / gdcore.tensor(row)).numpy().tobytes() == (batched / row).tobytes()
