"""gdcore.compile with indexing: index tensors are inputs of the recorded ops, so a captured step
gathers with each call's indices, and the ops whose loops go through the kernel trace (gather,
scatter, index_add, advanced indexing, index_put, sort/topk's order) run lowered, byte-identical to
the eager step. Ops whose output size depends on the values (bool masks, masked_select, nonzero,
unique) replay op by op, with each call's sizes: tests/test_compile_dynamic_shapes.py."""
import numpy as np
import pytest

import gdcore
from gdcore import nn, optim
from epoch_runs import as_bytes, lowered_program


def eager_and_compiled(body, make_args, steps=6):
    """body(P, *args) -> tensors; P a parameter whose gradient the body fills. Returns both runs and the compiled step."""
    runs = []
    for compiled in (False, True):
        P = gdcore.tensor(np.linspace(-1.0, 1.0, 20).reshape(4, 5), requires_grad=True)

        def step(*args):
            outs = body(P, *args)
            g = P.grad.clone()
            P.grad = None
            return (*outs, g)
        run = gdcore.compile(step) if compiled else step
        runs.append([as_bytes(run(*make_args(k))) for k in range(steps)])
    return runs[0], runs[1], run


INDEX_STEPS = {
    "nll_range_target": (lambda P, x, t: [-(x * P)[range(4), t].sum()],
                         lambda k: (gdcore.randn(4, 5, generator=gdcore.Generator(k)),
                                    gdcore.tensor([(k + j) % 5 for j in range(4)]))),
    "rows_cols": (lambda P, x, t: [(x * P)[t[:2, None], t[None, 2:]]],
                  lambda k: (gdcore.randn(4, 5, generator=gdcore.Generator(k)), gdcore.tensor([k % 4, 1, 2, (k + 3) % 5]))),
    "gather": (lambda P, x, t: [(x * P).gather(1, t.reshape(4, 1).expand(4, 3))],
               lambda k: (gdcore.randn(4, 5, generator=gdcore.Generator(k)), gdcore.tensor([k % 5, 0, 4, 2]))),
    "take_along_dim": (lambda P, x, t: [gdcore.take_along_dim(x * P, t.reshape(4, 1), dim=1)],
                       lambda k: (gdcore.randn(4, 5, generator=gdcore.Generator(k)), gdcore.tensor([1, k % 5, 3, 0]))),
    "scatter_add": (lambda P, x, t: [(x * P)[1:].scatter_add(0, t[:3].reshape(3, 1).expand(3, 5), x[:3] * P[:3])],
                    lambda k: (gdcore.randn(4, 5, generator=gdcore.Generator(k)), gdcore.tensor([k % 3, 1, 1, 0]))),
    "index_add": (lambda P, x, t: [(x * P).index_add(0, t, x * 2)],
                  lambda k: (gdcore.randn(4, 5, generator=gdcore.Generator(k)), gdcore.tensor([k % 4, 1, 1, 3]))),
    "index_put_accumulate": (lambda P, x, t: [gdcore.index_put(x * P, (t,), P[0] * 3, accumulate=True)],
                             lambda k: (gdcore.randn(4, 5, generator=gdcore.Generator(k)), gdcore.tensor([k % 4, 1, 1]))),
    "sort_topk": (lambda P, x, t: [(x * P).sort(dim=1, descending=True).values, (x * P).topk(2, dim=0).values],
                  lambda k: (gdcore.randn(4, 5, generator=gdcore.Generator(k)), gdcore.tensor([0]))),
}


@pytest.mark.parametrize("name", list(INDEX_STEPS))
def test_indexing_steps_run_lowered_and_match_eager(name):
    body, make_args = INDEX_STEPS[name]

    def full_body(P, x, t):
        outs = body(P, x, t)
        sum((o * o).sum() for o in outs).backward()
        return outs
    eager, compiled, run = eager_and_compiled(full_body, make_args)
    assert eager == compiled
    assert lowered_program(run).lowering == "lowered"


def test_logistic_regression_with_hand_written_nll_is_lowered():
    """The tutorial loop: log_softmax by hand, -logp[range(n), yb].mean(), SGD; same bytes as eager."""
    gen = gdcore.Generator(5)
    batches = [(gdcore.randn(8, 3, generator=gen), gdcore.tensor([(k * 3 + j) % 4 for j in range(8)])) for k in range(8)]
    results = []
    for compiled in (False, True):
        gdcore.manual_seed(0)
        model = nn.Linear(3, 4)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(xb, yb):
            opt.zero_grad()
            z = model(xb)
            logp = z - z.exp().sum(1, keepdim=True).log()
            loss = -logp[range(8), yb].mean()
            loss.backward()
            opt.step()
            return loss
        run = gdcore.compile(step) if compiled else step
        results.append(as_bytes([run(x, y) for x, y in batches]) + as_bytes(model.parameters()))
    assert results[0] == results[1]
    assert lowered_program(run).lowering == "lowered"


def test_setitem_and_in_place_scatter_are_replayed_with_new_indices():
    @gdcore.compile
    def step(x, i):
        y = x.clone()
        y[i] = 0.0
        y.scatter_(0, i[:1], -1.0)
        return y
    x = gdcore.tensor([1.0, 2.0, 3.0, 4.0])
    for rows in ([0, 2], [1, 3], [3, 3]):
        expected = x.numpy().copy()
        expected[rows] = 0.0
        expected[rows[0]] = -1.0
        np.testing.assert_array_equal(step(x, gdcore.tensor(rows)).numpy(), expected)
    assert step.num_captures == 1
    assert lowered_program(step).lowering == "lowered"


def test_an_index_out_of_range_at_replay_raises_and_writes_nothing():
    @gdcore.compile
    def step(x, i):
        return x.gather(0, i) * 2
    x = gdcore.tensor([1.0, 2.0, 3.0])
    for _ in range(3):  # captured, then replayed lowered
        step(x, gdcore.tensor([2, 0]))
    with pytest.raises((RuntimeError, IndexError), match="index 7 is out of bounds"):
        step(x, gdcore.tensor([7, 0]))
    assert step(x, gdcore.tensor([1, 1])).tolist() == [4.0, 4.0]
