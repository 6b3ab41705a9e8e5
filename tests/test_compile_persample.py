"""The per-sample epoch's fast paths, round 3 (issue 14, target 3): the epoch loop of a lowered
step (cpp/src/autograd/lowered_epoch.cpp: row indices checked once, fixed-size row copies, rows
prefetched 16 ahead), plain SGD's short loop (kernels/simd/update_loops.hpp: sgd_plain_loop, one
lane at a time below a vector's width, one call per run of same-dtype parameters) and a
one-element sum run as an element loop. On every SIMD path this CPU has, compiled epochs give
the eager loop's bytes, including epochs whose length is not a multiple of the prefetch
distance, shapes that miss the specialisations and SGD options that take the general loop; the
plain update is checked against a correctly rounded multiply-add (the wide paths) or a multiply
then a subtraction (scalar), computed with exact fractions."""
from fractions import Fraction

import numpy as np
import pytest

import gdcore
from gdcore import optim
from gdcore.data import DataLoader, TensorDataset
from epoch_runs import as_bytes, regression_epochs


def linear_epochs(X, y, batch_size, compiled, dtype=gdcore.float64, epochs=2, **sgd_options):
    """Linear regression by SGD over a shuffled loader: the losses and (w, b) as bytes; the compiled
    step must have been lowered."""
    result, run = regression_epochs(X, y, batch_size, compiled, dtype, epochs, seed=3, **sgd_options)
    assert run is None or any(c.program.lowering == "lowered" for c in run._captures.values())
    return result


def data(rows, features, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, features))
    return X, X @ rng.standard_normal(features) + 0.1 * rng.standard_normal(rows)


# Rows: fewer than the prefetch distance (16), one more, and lengths that are no multiple of it;
# batch 3 leaves a last partial batch (replayed from Python) and prefetches within the next batch.
@pytest.mark.parametrize("rows, batch_size", [(1, 1), (2, 1), (5, 1), (17, 1), (37, 1), (50, 3), (40, 16)])
def test_epochs_of_any_length_give_the_eager_bytes(on_path, rows, batch_size):
    X, y = data(rows, 16)
    assert linear_epochs(X, y, batch_size, True) == linear_epochs(X, y, batch_size, False)


# Sizes below, at and above each path's vector width (float64: 4 or 8 lanes, float32: 8 or 16),
# 33 beyond the tiny products, and rows whose bytes are no multiple of 8 (float32, odd features:
# the general row copy).
@pytest.mark.parametrize("features", [1, 3, 7, 9, 16, 33])
@pytest.mark.parametrize("dtype", [gdcore.float64, gdcore.float32], ids=["float64", "float32"])
def test_parameter_sizes_around_the_vector_width_give_the_eager_bytes(on_path, features, dtype):
    X, y = data(23, features, seed=features)
    assert linear_epochs(X, y, 1, True, dtype) == linear_epochs(X, y, 1, False, dtype)


# SGD options that take the general loop (sgd_loop), including its one-lane form for short tensors.
@pytest.mark.parametrize("options", [dict(momentum=0.9), dict(weight_decay=0.1), dict(maximize=True),
                                     dict(momentum=0.9, nesterov=True), dict(momentum=0.5, dampening=0.3)])
@pytest.mark.parametrize("features", [3, 16])
def test_sgd_options_outside_the_plain_loop_give_the_eager_bytes(on_path, options, features):
    X, y = data(21, features, seed=1)
    assert linear_epochs(X, y, 1, True, **options) == linear_epochs(X, y, 1, False, **options)


def test_mixed_dtype_parameters_in_one_group_update_in_order(on_path):
    """Plain SGD makes one call per run of same-dtype parameters: a group mixing dtypes still
    updates each parameter as a one-parameter step does."""
    rng = np.random.default_rng(5)
    values = [rng.standard_normal(n) for n in (3, 1, 20, 5)]
    grads = [rng.standard_normal(n) for n in (3, 1, 20, 5)]
    dtypes = [gdcore.float32, gdcore.float32, gdcore.float64, gdcore.float32]
    together = [gdcore.tensor(v).to(d).requires_grad_() for v, d in zip(values, dtypes)]
    alone = [gdcore.tensor(v).to(d).requires_grad_() for v, d in zip(values, dtypes)]
    for p, q, g, d in zip(together, alone, grads, dtypes):
        p.grad = gdcore.tensor(g).to(d)
        q.grad = gdcore.tensor(g).to(d)
    optim.SGD(together, lr=0.3).step()
    for q in alone:
        optim.SGD([q], lr=0.3).step()
    assert as_bytes(together) == as_bytes(alone)


def expected_plain_step(p, g, lr, path):
    """p - lr * g as the path computes it, from exact fractions: one rounding (FMA) on the wide
    paths, two (the product, then the difference) on the scalar path."""
    out = []
    for a, b in zip(p.tolist(), g.tolist()):
        if path == "scalar":
            out.append(float(Fraction(a) - Fraction(float(Fraction(lr) * Fraction(b)))))
        else:
            out.append(float(Fraction(a) - Fraction(lr) * Fraction(b)))
    return np.array(out)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33])
def test_plain_sgd_rounds_as_the_path_does_at_every_length(on_path, n):
    rng = np.random.default_rng(n)
    p0 = rng.standard_normal(n) * 3
    g = rng.standard_normal(n) * 1e-3 + rng.standard_normal(n)
    lr = 0.1  # (not a power of two: the product is rounded)
    p = gdcore.tensor(p0).requires_grad_()
    p.grad = gdcore.tensor(g)
    optim.SGD([p], lr=lr).step()
    got = p.detach().numpy()
    assert got.tobytes() == expected_plain_step(p0, g, lr, on_path).tobytes()


def test_plain_sgd_element_bits_do_not_depend_on_the_length(on_path):
    """An element gets the same arithmetic as a lane, a masked tail or a one-lane loop."""
    rng = np.random.default_rng(9)
    p0, g = rng.standard_normal(40).astype(np.float32), rng.standard_normal(40).astype(np.float32)
    full = gdcore.tensor(p0).requires_grad_()
    full.grad = gdcore.tensor(g)
    optim.SGD([full], lr=0.37).step()
    for n in (1, 3, 7, 15, 17):
        part = gdcore.tensor(p0[:n]).requires_grad_()
        part.grad = gdcore.tensor(g[:n])
        optim.SGD([part], lr=0.37).step()
        assert part.detach().numpy().tobytes() == full.detach().numpy()[:n].tobytes()


def test_one_element_sum_and_mean_give_the_eager_bytes(on_path):
    """sum (and mean) of one element runs as an element loop inside a lowered step."""
    w = gdcore.tensor([0.5, -2.0], dtype=gdcore.float32, requires_grad=True)

    def step(x):
        loss = (x * w).sum(0, keepdim=True).mean() + (x[:1] * 3).sum()
        loss.backward()
        with gdcore.no_grad():
            w.sub_(0.1 * w.grad)
        w.grad = None
        return loss
    run = gdcore.compile(step)
    xs = [gdcore.tensor([[v, -v]], dtype=gdcore.float32).reshape(2) for v in (-0.0, 1.5, 2.25, -3.0)]
    got = [run(x).detach().numpy().tobytes() for x in xs]
    (capture,) = run._captures.values()
    assert capture.program.lowering == "lowered"
    w_compiled = w.detach().numpy().tobytes()
    with gdcore.no_grad():
        w.copy_(gdcore.tensor([0.5, -2.0], dtype=gdcore.float32))
    want = [step(x).detach().numpy().tobytes() for x in xs]
    assert got == want and w.detach().numpy().tobytes() == w_compiled


def test_a_row_index_out_of_range_raises_before_the_lowered_rows_run():
    X, y = data(8, 4)
    w = gdcore.zeros(4, dtype=gdcore.float64, requires_grad=True)
    optimizer = optim.SGD([w], lr=0.1)

    def step(xb, yb):
        loss = ((xb @ w - yb) ** 2).sum()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss
    run = gdcore.compile(step)
    dataset = TensorDataset(gdcore.tensor(X), gdcore.tensor(y))
    run.run_epoch(DataLoader(dataset, batch_size=1))  # lowered from here on
    before = w.detach().numpy().copy()
    with pytest.raises(IndexError, match="row index 99 is out of range for a dataset of 8 rows"):
        run.run_epoch(DataLoader(dataset, batch_size=1, sampler=[0, 1, 2, 99, 3]))
    # The first row runs from Python; the lowered rows never started.
    first = w.detach().numpy()
    assert not np.array_equal(first, before)
    w2 = gdcore.tensor(before, requires_grad=True)
    loss = ((gdcore.tensor(X[:1]) @ w2 - gdcore.tensor(y[:1])) ** 2).sum()
    loss.backward()
    optim.SGD([w2], lr=0.1).step()
    assert first.tobytes() == w2.detach().numpy().tobytes()
