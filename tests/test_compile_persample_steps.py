"""The per-sample epoch's fast paths, round 5 (issue 14, target 3): a lowered step runs as a
program of direct steps (cpp/src/autograd/lowered_step.hpp): tiny products, one-element chains,
`.grad = None` and plain SGD (one step a parameter, its loop resolved when the step is traced: on
the wide paths a 16-byte FMA loop for up to 64 elements, kernels/sgd_narrow.cpp, which must give
the path's own bits) are called without the std::function hop, every other step through its std::function; a
run_epoch's later batches skip the `.grad = None` steps when no step can set a .grad; and on a SIMD
path other than the traced one every step runs through its std::function again.
On every SIMD path this CPU has, in float32 and float64, compiled epochs give the eager loop's
bytes: sizes inside and outside the tiny products (1 to 32 elements; 33 and more take the general
product), nan and inf in the rows, a parameter too large for the small SGD loop, a step that keeps
its .grad (no `.grad = None` to skip), a SIMD path switched between two epochs, and the versions
after run_epoch are the eager loop's."""
import numpy as np
import pytest

import gdcore
from gdcore import _core
from gdcore.data import DataLoader, TensorDataset
from epoch_runs import as_bytes, epoch_losses, lowered_program, regression_step, shuffled_loader

DTYPES = [gdcore.float64, gdcore.float32]
DTYPE_IDS = ["float64", "float32"]


def rows(n, features, seed, special=()):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, features))
    y = X @ rng.standard_normal(features) + 0.1 * rng.standard_normal(n)
    for k, value in enumerate(special):  # nan and inf in the inputs: a row's feature, a later target
        X[k, k % features] = value
        y[-1 - k] = value
    return X, y


def regression_epochs(X, y, dtype, compiled, epochs=2, zero_grad_after=True, batch_size=1, lr=0.01):
    """Per-sample linear regression by plain SGD over a shuffled loader: ((losses, w, b and, for a
    step that keeps its .grad, w.grad and b.grad) as bytes, the compiled step or None)."""
    w, b, step = regression_step(X.shape[1], dtype, lr, zero_grad_after)
    losses, run = epoch_losses(step, shuffled_loader(X, y, dtype, batch_size, 5), compiled, epochs)
    kept = [] if zero_grad_after else [w.grad, b.grad]
    return (losses.numpy().tobytes(), as_bytes([w, b] + kept)), run


@pytest.mark.parametrize("features", [1, 2, 5, 8, 16, 31, 32, 33, 70])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_per_sample_epochs_give_the_eager_bytes(on_path, dtype, features):
    """1-32 features take the tiny products' direct steps, 33 and 70 the general product (a
    std::function step in the same program)."""
    X, y = rows(23, features, features)
    want, _ = regression_epochs(X, y, dtype, False)
    got, run = regression_epochs(X, y, dtype, True)
    assert got == want
    assert lowered_program(run).lowering == "lowered"


@pytest.mark.parametrize("special", [(np.nan,), (np.inf,), (-np.inf, np.nan, np.inf)],
                         ids=["nan", "inf", "-inf-nan-inf"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_per_sample_epochs_with_nan_and_inf_give_the_eager_bytes(on_path, dtype, special):
    X, y = rows(17, 16, 3, special)
    want, _ = regression_epochs(X, y, dtype, False)
    got, run = regression_epochs(X, y, dtype, True)
    assert got == want
    assert lowered_program(run).lowering == "lowered"


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_a_step_that_keeps_its_grads_gives_the_eager_bytes_and_grads(on_path, dtype):
    """zero_grad first, no `.grad = None` after the update: the backward's .grad hand-over stays a
    step of the program (it sets a .grad), so no `.grad = None` is skipped; .grad after the epochs
    is the last row's gradient, as in the eager loop."""
    X, y = rows(19, 16, 4, (np.inf,))
    want, _ = regression_epochs(X, y, dtype, False, zero_grad_after=False)
    got, run = regression_epochs(X, y, dtype, True, zero_grad_after=False)
    assert got == want
    assert lowered_program(run).lowering == "lowered"


@pytest.mark.parametrize("batch_size", [2, 5])
def test_batches_of_several_rows_give_the_eager_bytes(on_path, batch_size):
    X, y = rows(5 * batch_size, 16, 6)
    want, _ = regression_epochs(X, y, gdcore.float64, False, batch_size=batch_size)
    got, run = regression_epochs(X, y, gdcore.float64, True, batch_size=batch_size)
    assert got == want
    assert lowered_program(run).lowering == "lowered"


def test_a_parameter_too_large_for_the_small_sgd_loop_gives_the_eager_bytes():
    """2**20 elements and more are split over threads: such a parameter keeps the general SGD step."""
    features = (1 << 20) + 3
    rng = np.random.default_rng(8)
    X = rng.standard_normal((3, features)).astype(np.float32)
    y = rng.standard_normal(3).astype(np.float32)
    want, _ = regression_epochs(X, y, gdcore.float32, False, lr=1e-6)
    got, run = regression_epochs(X, y, gdcore.float32, True, lr=1e-6)
    assert got == want
    assert lowered_program(run).lowering == "lowered"


@pytest.mark.parametrize("traced, then", [("scalar", "avx2"), ("avx2", "scalar"), ("avx512", "scalar"),
                                          ("scalar", "avx512")])
def test_a_simd_path_switched_after_the_trace_runs_the_new_paths_loops(traced, then):
    """A direct SGD step holds the traced path's loop: on another path the lowered step runs its
    std::functions, which look the loop up at each call, so the bytes are those of the eager loop
    switched at the same point (where the paths' roundings differ, so would these)."""
    paths = _core.simd_paths()
    if traced not in paths or then not in paths:
        pytest.skip(f"this CPU has no {traced if traced not in paths else then}")
    X, y = rows(21, 16, 9)
    before = _core.simd_path()
    results = []
    try:
        for compiled in (False, True):
            _core._set_simd_path(traced)
            w, b, step = regression_step(16, gdcore.float64, 0.05)
            loader = shuffled_loader(X, y, gdcore.float64, 1, 3)
            first, run = epoch_losses(step, loader, compiled, 2)
            _core._set_simd_path(then)
            if compiled:
                second = run.run_epoch(loader)
                assert lowered_program(run).lowering == "lowered"
            else:
                second, _ = epoch_losses(step, loader, False, 1)
            results.append((first.numpy().tobytes(), second.numpy().tobytes(), as_bytes([w, b])))
    finally:
        _core._set_simd_path(before)
    assert results[1] == results[0]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_versions_and_grads_after_run_epoch_are_the_eager_loops(dtype):
    """The skipped `.grad = None` steps leave .grad None, as the eager loop does; each update's
    version counter moves by the number of rows, as there."""
    X, y = rows(24, 16, 10)
    dataset = TensorDataset(gdcore.tensor(X).to(dtype), gdcore.tensor(y).to(dtype))
    seen = []
    for compiled in (False, True):
        w, b, step = regression_step(16, dtype)
        run = gdcore.compile(step) if compiled else step
        v0 = (w._version, b._version)
        for _ in range(3):
            loader = DataLoader(dataset, batch_size=1, shuffle=True, generator=gdcore.Generator(2))
            if compiled:
                run.run_epoch(loader)
            else:
                for xb, yb in loader:
                    run(xb, yb)
        seen.append((w._version - v0[0], b._version - v0[1], w.grad is None, b.grad is None,
                     as_bytes([w, b])))
        if compiled:
            assert lowered_program(run).lowering == "lowered"
    assert seen[0] == seen[1]
    assert seen[0][:4] == (72, 72, True, True)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_tiny_products_give_the_same_bits_on_every_path(dtype):
    """Row-times-column and column-times-number products of 1 to 33 elements (up to 32 the tiny
    bodies that the direct steps call): every SIMD path gives the scalar path's bits,
    nan, inf and signed zeros included; the dot product's bits are those of its four running sums
    added as (s0 + s1) + (s2 + s3), computed here with numpy one rounding at a time."""
    rng = np.random.default_rng(12)
    before = _core.simd_path()
    np_dtype = np.float64 if dtype == gdcore.float64 else np.float32
    try:
        for k in range(1, 34):
            x = rng.standard_normal((1, k)).astype(np_dtype)
            w = rng.standard_normal(k).astype(np_dtype)
            if k > 3:
                x[0, 1], w[2], x[0, 3] = -0.0, np.inf if k % 2 else np.nan, -np.inf if k % 3 == 0 else 1.5
            col = rng.standard_normal((k, 1)).astype(np_dtype)
            col[0, 0] = -0.0
            one = np.array([[-2.5 if k % 2 else -0.0]], dtype=np_dtype)
            results = []
            for path in _core.simd_paths():
                _core._set_simd_path(path)
                dot = (gdcore.tensor(x) @ gdcore.tensor(w)).numpy().tobytes()
                column = (gdcore.tensor(col) @ gdcore.tensor(one)).numpy().tobytes()
                results.append((dot, column))
            assert all(r == results[0] for r in results), k
            if k >= 2:
                with np.errstate(invalid="ignore", over="ignore"):
                    body = k - k % 4
                    sums = [np_dtype(0)] * 4
                    for p in range(0, body, 4):
                        for j in range(4):
                            sums[j] = np_dtype(sums[j] + np_dtype(x[0, p + j] * w[p + j]))
                    total = np_dtype(np_dtype(sums[0] + sums[1]) + np_dtype(sums[2] + sums[3]))
                    for p in range(body, k):
                        total = np_dtype(total + np_dtype(x[0, p] * w[p]))
                    want = np.array([np_dtype(np_dtype(0) + total)], dtype=np_dtype)
                assert results[0][0] == want.tobytes(), k
    finally:
        _core._set_simd_path(before)
