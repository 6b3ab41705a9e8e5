"""The per-sample epoch's fast paths, round 4 (issue 14, target 3): a fused run of one-element
loops runs as threaded code (each loop's `one` ends in a tail jump to the next loop's, the run's
array ends with a stop; cpp/include/gdcore/kernel_trace.hpp, cpp/src/autograd/lowered_fusion.cpp),
and run_epoch bumps the version counters of the in-place updates once per epoch instead of once
per row (cpp/src/autograd/lowered_epoch.cpp). On every SIMD path this CPU has, compiled epochs
give the eager loop's bytes for one-element chains of many kinds of loop (unary, binary, with a
broadcast number, casts, fills, one-element sums), in float32 and float64, with nan and inf in
the rows, and for chains longer than one element (the chunked path, not the threaded one); the
versions after a compiled epoch are those of the eager loop."""
import numpy as np
import pytest

import gdcore
from gdcore import _core, optim
from gdcore.data import DataLoader, TensorDataset
from epoch_runs import as_bytes, epoch_losses, lowered_program, regression_step, shuffled_loader

PATHS = _core.simd_paths()
DTYPES = [gdcore.float64, gdcore.float32]
DTYPE_IDS = ["float64", "float32"]


@pytest.fixture(params=PATHS)
def on_path(request):
    """Runs the test on the SIMD path given by the parameter, then restores the default."""
    before = _core.simd_path()
    _core._set_simd_path(request.param)
    yield request.param
    _core._set_simd_path(before)


def chain_epochs(X, y, dtype, compiled, batch_size=1, epochs=2):
    """A step of many element loops over one-element tensors (with batch_size 1): forward,
    backward and a plain SGD update of (a, c). Returns the losses and (a, c) as bytes, and the
    compiled step (or None)."""
    a = gdcore.tensor([0.75], dtype=dtype, requires_grad=True)
    c = gdcore.tensor([-0.5], dtype=dtype, requires_grad=True)
    optimizer = optim.SGD([a, c], lr=0.01)

    def step(xb, yb):  # xb (batch, 1), yb (batch,)
        x = xb.reshape(-1)
        z = x * a + c                                   # binary loops, a one-element input
        u = z.tanh() * 0.5 + (z * z).exp().reciprocal()  # unary loops, a broadcast number
        v = (u - yb).abs() / (1 + x.abs())              # a number on the left
        w = v.to(gdcore.float64).sqrt().to(dtype)       # casts both ways (float32 rows)
        loss = (w ** 2 + v.neg().sigmoid()).sum()       # pow, a one-element sum
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss
    losses, run = epoch_losses(step, shuffled_loader(X, y, dtype, batch_size, 11), compiled, epochs)
    return (losses.numpy().tobytes(), as_bytes([a, c])), run


def rows(n, seed, special=()):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 1)) * 2
    y = rng.standard_normal(n)
    for k, value in enumerate(special):  # nan and inf in the inputs, at the front of the data
        X[k, 0] = value
        y[-1 - k] = value
    return X, y


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_one_element_chains_give_the_eager_bytes(on_path, dtype):
    X, y = rows(29, 1)
    (want, _), (got, run) = chain_epochs(X, y, dtype, False), chain_epochs(X, y, dtype, True)
    assert got == want
    assert lowered_program(run).lowering == "lowered"
    assert lowered_program(run).fused_loops >= 10  # the forward's and the backward's loops, in runs


@pytest.mark.parametrize("special", [(np.nan,), (np.inf,), (-np.inf, np.nan, np.inf), (0.0, -0.0)],
                         ids=["nan", "inf", "-inf-nan-inf", "zeros"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_one_element_chains_with_nan_and_inf_give_the_eager_bytes(on_path, dtype, special):
    """Once a nan or inf reaches a parameter every later loss is nan: the bytes (and payloads) must
    still be the eager loop's."""
    X, y = rows(13, 2, special)
    want, _ = chain_epochs(X, y, dtype, False)
    got, run = chain_epochs(X, y, dtype, True)
    assert got == want
    assert lowered_program(run).lowering == "lowered"


# Batches of 2 and 5 rows: the same chains over more than one element take the chunked loop.
@pytest.mark.parametrize("batch_size", [2, 5])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_chains_longer_than_one_element_give_the_eager_bytes(on_path, dtype, batch_size):
    X, y = rows(5 * batch_size, 3, (np.inf,))
    want, _ = chain_epochs(X, y, dtype, False, batch_size)
    got, run = chain_epochs(X, y, dtype, True, batch_size)
    assert got == want
    assert lowered_program(run).lowering == "lowered"


@pytest.mark.parametrize("batch_size", [1, 3])
def test_versions_after_a_compiled_epoch_are_the_eager_loops(batch_size):
    """run_epoch bumps each in-place update's version counter once at the end of the epoch, by
    the number of batches it ran: the same count as the eager loop, whose optimizer bumps once
    per step."""
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((24, 16)), rng.standard_normal(24)
    dataset = TensorDataset(gdcore.tensor(X), gdcore.tensor(y))
    counts = []
    for compiled in (False, True):
        w, b, step = regression_step(16, gdcore.float64)
        run = gdcore.compile(step) if compiled else step
        v0 = (w._version, b._version)
        for _ in range(2):
            loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=gdcore.Generator(2))
            if compiled:
                run.run_epoch(loader)
            else:
                for xb, yb in loader:
                    run(xb, yb)
        counts.append((w._version - v0[0], b._version - v0[1]))
        if compiled:
            assert lowered_program(run).lowering == "lowered"
    assert counts[0] == counts[1] == (2 * 24 // batch_size, 2 * 24 // batch_size)


def test_a_graph_that_saved_a_parameter_sees_the_epochs_updates():
    """A graph built before run_epoch that saved w must refuse its backward afterwards (the
    epoch's updates bump w's version, now once at the end of the epoch)."""
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((10, 4)), rng.standard_normal(10)
    w, b, step = regression_step(4, gdcore.float64)
    run = gdcore.compile(step)
    dataset = TensorDataset(gdcore.tensor(X), gdcore.tensor(y))
    run.run_epoch(DataLoader(dataset, batch_size=1))  # lowered from here on
    assert lowered_program(run).lowering == "lowered"
    outer = (w * w).sum()  # saves w
    run.run_epoch(DataLoader(dataset, batch_size=1))
    with pytest.raises(RuntimeError, match="in-place|inplace"):
        outer.backward()


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_a_run_longer_than_one_chain_gives_the_eager_bytes(on_path, dtype):
    """More than 256 one-element loops in one run: the run is cut into chains of 256 (a bounded call
    depth where the tail jumps stay calls), still in order."""
    p = gdcore.tensor([0.25], dtype=dtype, requires_grad=True)

    def step(x):  # x (1,): 2 * 200 forward loops, as many backward
        z = x * p
        for k in range(200):
            z = z * 0.999 + (0.001 * k)
        loss = z.sum()
        loss.backward()
        with gdcore.no_grad():
            p.sub_(0.01 * p.grad)
        p.grad = None
        return loss
    xs = [gdcore.tensor([v], dtype=dtype) for v in (1.5, -2.0, np.inf, 0.5, np.nan, 3.0)]
    run = gdcore.compile(step)
    got = [run(x).detach().numpy().tobytes() for x in xs] + as_bytes([p])
    assert lowered_program(run).lowering == "lowered"
    assert lowered_program(run).fused_loops > 256
    with gdcore.no_grad():
        p.copy_(gdcore.tensor([0.25], dtype=dtype))
    want = [step(x).detach().numpy().tobytes() for x in xs] + as_bytes([p])
    assert got == want
