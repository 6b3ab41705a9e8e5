"""gdcore.compile with steps whose sizes depend on the values: x[mask], masked_select, nonzero
(also as an index) and unique. Each of these is recorded as one entry that runs again at every
replay, so a replay recomputes the sizes from its own data; the ops that read such a tensor
recompute everything from their inputs. These steps replay op by op (never lowered: a fixed
list of loops cannot change its sizes) and give the eager bytes at every call, masks of every
count included (an empty one too). What would freeze a size into the replay is refused at
capture: Python reading the size (len(x[mask]), .shape) and ops that replay at a captured shape
(reshape, view, expand) applied to such a tensor."""
import numpy as np
import pytest

import gdcore
from gdcore import nn, optim
from epoch_runs import as_bytes, lowered_program

VALUE_SIZED = "op by op: it calls {} (its result's size depends on the values)"


def masks(n, counts, seed):
    """Bool masks of n elements with the given numbers of True, at random places (numpy)."""
    rng = np.random.default_rng(seed)
    out = []
    for c in counts:
        m = np.zeros(n, dtype=bool)
        m[rng.choice(n, size=c, replace=False)] = True
        out.append(m)
    return out


def test_masked_regression_loss_trains_as_eager_for_every_mask_count():
    """loss = ((pred - y)[mask] ** 2).mean() with SGD: a different number of rows counts at each
    batch (none at one: nan loss and zero gradients, as in torch); losses and parameters keep the
    eager bytes over every replay."""
    gen = gdcore.Generator(11)
    counts = [5, 2, 8, 0, 1, 7, 3, 5]
    batches = [(gdcore.randn(8, 3, generator=gen), gdcore.randn(8, 1, generator=gen),
                gdcore.tensor(m.reshape(8, 1))) for m in masks(8, counts, 0)]
    results = []
    for compiled in (False, True):
        gdcore.manual_seed(0)
        model = nn.Linear(3, 1)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y, mask):
            opt.zero_grad()
            loss = ((model(x) - y)[mask] ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        run = gdcore.compile(step) if compiled else step
        losses = [run(*b) for b in batches]
        results.append((as_bytes(losses), as_bytes(model.parameters())))
        if compiled:
            assert run.num_captures == 1 and lowered_program(run).replays == len(batches) - 1
            assert lowered_program(run).lowering == VALUE_SIZED.format("index")
    assert results[0] == results[1]
    assert np.isnan(np.frombuffer(results[1][0][3], dtype=np.float32)[0])  # the batch with no row


def eager_and_compiled(body, args_list):
    """body(P, *args) -> tensors, P a float64 parameter whose gradient (of the outputs' squared sum)
    is returned too; both runs over args_list, as bytes, and the compiled step."""
    runs = []
    for compiled in (False, True):
        P = gdcore.tensor(np.linspace(-1.0, 1.5, 12).reshape(3, 4), requires_grad=True)

        def step(*args):
            outs = body(P, *args)
            sum((o.double() ** 2).sum() for o in outs if o.dtype.is_floating_point).backward()
            g = P.grad.clone()
            P.grad = None
            return (*outs, g)
        run = gdcore.compile(step) if compiled else step
        runs.append([as_bytes(run(*args)) for args in args_list])
    return runs[0], runs[1], run


def data(steps=6, seed=3):
    """(3, 4) float64 inputs with a different number of positive entries at each step (12, 0, ...)."""
    rng = np.random.default_rng(seed)
    xs = [np.ones((3, 4)), -np.ones((3, 4))]
    xs += [rng.standard_normal((3, 4)) + shift for shift in np.linspace(-1.0, 1.0, steps - 2)]
    return [(gdcore.tensor(x),) for x in xs]


STEPS = {
    # name: (body, the entry the step calls)
    "x[x > 0].sum()": (lambda P, x: [(x * P)[x > 0].sum()], "index"),
    "x[mask] rows": (lambda P, x: [(x * P)[x[:, 0] > 0] * 3.0], "index"),
    "x[mask, 1:]": (lambda P, x: [(x * P)[x[:, 1] > 0, 1:].mean(0)], "index"),
    "masked_select": (lambda P, x: [gdcore.masked_select(x * P, x > 0).exp()], "masked_select"),
    "nonzero as_tuple": (lambda P, x: [(x * P)[(x > 0).nonzero(as_tuple=True)]], "nonzero"),
    "nonzero columns": (lambda P, x: [(x * P)[gdcore.nonzero(x > 0)[:, 0], gdcore.nonzero(x > 0)[:, 1]] + 1.0],
                        "nonzero"),
    "where of masked": (lambda P, x: [gdcore.where((x * P)[x < 0] > -0.5, 1.0, (x * P)[x < 0]).sum(0)], "index"),
    "cat and softmax": (lambda P, x: [gdcore.cat([P[0], (x * P)[x > 0]]).softmax(0)], "index"),
}


@pytest.mark.parametrize("name", list(STEPS))
def test_value_sized_steps_give_the_eager_bytes_and_gradients(name):
    body, entry = STEPS[name]
    eager, compiled, run = eager_and_compiled(body, data())
    assert eager == compiled
    assert run.num_captures == 1 and lowered_program(run).lowering == VALUE_SIZED.format(entry)


def test_results_against_numpy_including_an_empty_mask():
    """Independent values: the compiled x[x > 0].sum(), .mean(), masked_select and nonzero for masks
    of 12, 0 and some elements. An empty mask gives sum 0 and mean nan, as torch."""
    @gdcore.compile
    def step(x):
        picked = x[x > 0]
        return picked.sum(), picked.mean(), gdcore.masked_select(x, x > 0), gdcore.nonzero(x > 0)
    with np.errstate(invalid="ignore"):
        for (x,) in data():
            a = x.numpy()
            s, m, sel, nz = step(x)
            np.testing.assert_allclose(s.item(), a[a > 0].sum(), rtol=1e-14, atol=1e-15)
            np.testing.assert_allclose(m.item(), np.mean(a[a > 0]) if (a > 0).any() else np.nan, rtol=1e-14)
            np.testing.assert_array_equal(sel.numpy(), a[a > 0])
            np.testing.assert_array_equal(nz.numpy(), np.argwhere(a > 0))
    assert step.num_captures == 1


def test_unique_on_the_forward():
    """unique (forward only), with its inverse and counts, against numpy at every replay."""
    @gdcore.compile
    def step(x):
        values, inverse, counts = gdcore.unique(x, return_inverse=True, return_counts=True)
        return values * 2, inverse, counts, (values[inverse] - x).abs().sum()
    rng = np.random.default_rng(4)
    for k in range(6):
        a = rng.integers(0, 2 + 2 * k, size=(3, 4)).astype(np.float64)
        values, inverse, counts, err = step(gdcore.tensor(a))
        want = np.unique(a, return_inverse=True, return_counts=True)
        np.testing.assert_array_equal(values.numpy(), want[0] * 2)
        np.testing.assert_array_equal(inverse.numpy(), want[1].reshape(3, 4))
        np.testing.assert_array_equal(counts.numpy(), want[2])
        assert err.item() == 0.0
    assert step.num_captures == 1
    assert lowered_program(step).lowering == VALUE_SIZED.format("unique")


def test_masked_assignment_replays_with_each_mask():
    """x[mask] = v (in place) and masked_fill were replayed already; with a value-sized right-hand side too."""
    @gdcore.compile
    def step(x):
        y = x.clone()
        y[y < 0] = y[y < 0] * 10.0
        return y.masked_fill(y > 1.0, 1.0)
    for (x,) in data():
        a = x.numpy().copy()
        a[a < 0] *= 10.0
        a[a > 1.0] = 1.0
        np.testing.assert_array_equal(step(x).numpy(), a)
    assert step.num_captures == 1


@pytest.mark.parametrize("read, what", [
    (lambda t: len(t), r"len\(\)"),
    (lambda t: t.shape, r"\.shape"),
    (lambda t: t.size(0), r"\.size\(\)"),
    (lambda t: t.numel(), r"\.numel\(\)"),
    (lambda t: t.nelement(), r"\.numel\(\)"),
    (lambda t: [r for r in t], r"iter\(\)"),
])
def test_reading_a_value_sized_size_in_python_refuses_capture(read, what):
    def step(x):
        picked = x[x > 0]
        n = read(picked)
        return picked.sum() / 2 if n is not None else picked.sum()
    run = gdcore.compile(step)
    with pytest.raises(RuntimeError, match=r"gdcore.compile: the step reads " + what + r".*depends on the values"):
        run(gdcore.tensor([1.0, -2.0, 3.0]))
    x = gdcore.tensor([[1.0, -2.0], [3.0, 4.0]])
    assert gdcore.compile(lambda x: gdcore.tensor(float(x.shape[0])) + x[x > 0].dim())(x).item() == 3.0  # rank is fixed


@pytest.mark.parametrize("fn, op", [
    (lambda x: x[x > 0].reshape(-1, 1), "Reshape"),
    (lambda x: x[x > 0].view(-1), "View"),
    (lambda x: x[x > 0].unsqueeze(0), "Unsqueeze"),
    (lambda x: x[x > 0][:, None].expand(-1, 2), "Expand"),
])
def test_ops_that_replay_at_a_captured_shape_refuse_a_value_sized_input(fn, op):
    run = gdcore.compile(lambda x: fn(x) * 2)
    with pytest.raises(RuntimeError, match=f"gdcore.compile: the step applies {op} to a tensor whose size depends "
                                           "on the values"):
        run(gdcore.tensor([1.0, -2.0, 3.0]))


def test_basic_indexing_of_a_value_sized_tensor_normalises_at_each_replay():
    """picked[-1], picked[:2] and picked[1:] index again with each replay's size (never the captured one)."""
    @gdcore.compile
    def step(x):
        picked = x[x > 0]
        return picked[-1], picked[:2], picked[1:]
    for row in ([1.0, 2.0, 3.0, 4.0], [5.0, -1.0, 6.0, -1.0], [-1.0, -2.0, 7.0, 8.0]):
        a = np.array(row)
        last, head, tail = step(gdcore.tensor(row))
        p = a[a > 0]
        assert last.item() == p[-1]
        np.testing.assert_array_equal(head.numpy(), p[:2])
        np.testing.assert_array_equal(tail.numpy(), p[1:])
    with pytest.raises(IndexError, match="index -1 is out of bounds"):
        step(gdcore.tensor([-1.0, -2.0, -3.0, -4.0]))
