"""The core's collective step (cpp/include/gdcore/collective.hpp), in one process without MPI: a collective
made from a Python function (``_core._python_collective``, the way DistributedDataParallel falls back to when it
cannot call MPI directly) stands in for the ranks. Checked: the in-place result and the average against numpy,
the version bump, bad input, and a DDP-shaped training step under gdcore.compile (each .grad bound to a view of a
flat bucket, the bucket reduced after backward) that is lowered, runs the collective at every replay and gives
the eager step's bytes. The multi-process runs are in tests/distributed (ddp_compiled.py)."""
import numpy as np
import pytest

import gdcore
from gdcore import _core, nn, optim


def tripled():
    """A stand-in for an all-reduce over 3 ranks that all hold the same values: every element times 3."""
    calls = []

    def run(view):
        calls.append(view.size)
        view *= 3
    return _core._python_collective("all_reduce", run), calls


@pytest.mark.parametrize("dtype", [gdcore.float32, gdcore.float64])
def test_collective_then_average_matches_numpy(dtype):
    rng = np.random.default_rng(0)
    values = rng.normal(size=37).astype(dtype.name)
    t = gdcore.from_numpy(values.copy())
    collective, calls = tripled()
    before = t._version
    _core._collective_(t, collective, 3)
    expected = values * 3
    expected /= 3                                # numpy's in-place division, as the eager DDP did before
    assert t.numpy().tobytes() == expected.tobytes()
    assert calls == [37] and t._version > before


def test_collective_works_on_the_tensor_memory():
    t = gdcore.arange(6, dtype=gdcore.float64).reshape(2, 3)
    view = t[1]
    collective, _ = tripled()
    _core._collective_(view, collective)         # divisor 1: the collective alone
    assert t.tolist() == [[0, 1, 2], [9, 12, 15]]


def test_broadcast_style_collective_on_integers():
    t = gdcore.tensor([1, 2, 3])
    _core._collective_(t, _core._python_collective("broadcast", lambda v: v.__setitem__(slice(None), 7)))
    assert t.tolist() == [7, 7, 7]


def test_bad_input_raises_clearly():
    collective, calls = tripled()
    with pytest.raises(ValueError, match="must be contiguous"):
        _core._collective_(gdcore.zeros(3, 4).t(), collective)
    with pytest.raises(ValueError, match="averaging needs a floating-point tensor"):
        _core._collective_(gdcore.tensor([1, 2]), collective, 2)
    with pytest.raises(ValueError, match="divisor must be >= 1"):
        _core._collective_(gdcore.zeros(2), collective, 0)
    with pytest.raises(RuntimeError, match="requires grad"):
        _core._collective_(gdcore.zeros(2, requires_grad=True), collective)
    with pytest.raises(ValueError, match="read-only"):
        frozen = np.zeros(3)
        frozen.flags.writeable = False
        _core._collective_(gdcore.from_numpy(frozen), collective)
    with pytest.raises(ValueError, match="handles of 3 bytes are not supported"):
        _core._mpi_all_reduce_sum(0, 0, 0, 0, 0, 0, 3)
    with pytest.raises(ValueError, match="handles of 2 bytes are not supported"):
        _core._mpi_broadcast(0, 0, 0, 0, 2)
    assert calls == []                           # nothing ran for a refused call


def test_an_error_in_the_collective_reaches_the_caller():
    def fail(view):
        raise KeyError("the collective failed")
    with pytest.raises(KeyError, match="the collective failed"):
        _core._collective_(gdcore.zeros(2), _core._python_collective("all_reduce", fail))


class Bucketed:
    """DistributedDataParallel's gradient layout without MPI: the parameters' .grad are views into one flat
    bucket, bound at forward, and the bucket is reduced after backward."""

    def __init__(self, model, collective, divisor):
        self.params = list(model.parameters())
        self.model, self.collective, self.divisor = model, collective, divisor
        self.flat = gdcore.zeros(sum(p.numel() for p in self.params), dtype=self.params[0].dtype)
        self.views, at = [], 0
        for p in self.params:
            self.views.append(self.flat[at:at + p.numel()].reshape(list(p.shape)))
            at += p.numel()

    def bind(self):
        with gdcore.no_grad():
            for p, view in zip(self.params, self.views):
                if p.grad is not view:
                    view.zero_()
                    p.grad = view

    def step_fn(self, opt):
        def step(x, y):
            opt.zero_grad()
            self.bind()
            loss = nn.functional.mse_loss(self.model(x), y)
            loss.backward()
            _core._collective_(self.flat, self.collective, self.divisor)
            opt.step()
            return loss
        return step


@pytest.mark.parametrize("make_opt", [lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
                                      lambda ps: optim.Adam(ps, lr=0.01)], ids=["sgd-momentum", "adam"])
def test_a_bucketed_step_compiles_lowers_and_gives_the_eager_bytes(make_opt):
    rng = np.random.default_rng(1)
    batches = [(gdcore.from_numpy(rng.normal(size=(8, 4))), gdcore.from_numpy(rng.normal(size=(8, 1))))
               for _ in range(6)]
    results = []
    for compiled in (False, True):
        gdcore.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 1)).to(gdcore.float64)
        collective, calls = tripled()
        bucketed = Bucketed(model, collective, 3)
        step = bucketed.step_fn(make_opt(list(model.parameters())))
        run = gdcore.compile(step) if compiled else step
        losses = [run(x, y).tolist() for x, y in batches]
        results.append((losses, [p.detach().numpy().tobytes() for p in model.parameters()]))
        assert len(calls) == len(batches)                      # the collective ran at every step, replays too
        assert all(p.grad._is_view for p in model.parameters())  # the gradients stayed in the bucket
    if compiled:
        (capture,) = run._captures.values()
        assert capture.program.lowering == "lowered"
        assert "all_reduce" in capture.program.describe()
    assert results[0] == results[1]


def test_a_step_that_assigns_its_own_tensor_to_grad_is_not_lowered():
    w = gdcore.ones(3, requires_grad=True)

    def step(x):
        (w * x).sum().backward()
        w.grad = w.grad * 2                        # a tensor made inside the step
        with gdcore.no_grad():
            w.sub_(w.grad)
        w.grad = None
        return w.sum()
    run = gdcore.compile(step)
    for _ in range(3):
        run(gdcore.ones(3))
    (capture,) = run._captures.values()
    assert capture.program.lowering == "op by op: it assigns a tensor made inside the step to .grad"
    assert w.tolist() == [-5.0, -5.0, -5.0]           # 1 - 3 * 2


def test_a_closed_collective_raises_eagerly_and_in_replays():
    collective, calls = tripled()
    flat = gdcore.zeros(3, dtype=gdcore.float64)
    w = gdcore.ones(3, dtype=gdcore.float64, requires_grad=True)

    def step(x):
        (w * x).sum().backward()
        with gdcore.no_grad():
            flat.copy_(w.grad)
        w.grad = None
        _core._collective_(flat, collective, 3)
        return flat.sum()
    run = gdcore.compile(step)
    for _ in range(3):
        run(gdcore.ones(3, dtype=gdcore.float64))
    assert len(calls) == 3 and not collective.closed
    collective.close()
    with pytest.raises(RuntimeError, match="its process group was destroyed"):
        run(gdcore.ones(3, dtype=gdcore.float64))
    with pytest.raises(RuntimeError, match="its process group was destroyed"):
        _core._collective_(flat, collective)
    assert len(calls) == 3


def test_the_post_backward_hook_runs_after_each_backward_into_grad_and_is_captured_not_replayed():
    """DistributedDataParallel's trigger (nn/parallel/backward_sync.py): once per backward() that fills .grad,
    never for autograd.grad, and under gdcore.compile only while capturing (the collective it starts records
    itself; replays run that, not the hook)."""
    collective, calls = tripled()
    flat = gdcore.zeros(2, dtype=gdcore.float64)
    hooks = []

    def hook():
        hooks.append(1)
        _core._collective_(flat, collective)
    w = gdcore.ones(2, dtype=gdcore.float64, requires_grad=True)
    _core._set_post_backward_hook(hook)
    try:
        (w * 2).sum().backward()
        gdcore.autograd.backward([(w * 2).sum()])
        gdcore.autograd.grad((w * 2).sum(), [w])
        assert len(hooks) == 2 and len(calls) == 2

        def step(x):
            (w * x).sum().backward()
            w.grad = None
            return flat.sum()
        run = gdcore.compile(step)
        for _ in range(4):
            run(gdcore.ones(2, dtype=gdcore.float64))
        assert len(hooks) == 3 and len(calls) == 6     # the hook once (at capture), the collective every call
    finally:
        _core._set_post_backward_hook(None)
    (w * 2).sum().backward()
    assert len(hooks) == 3
