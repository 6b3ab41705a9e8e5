"""gdcore.compile's lowered replay (cpp/src/autograd/lowered_step.hpp): from the second replay on,
a step runs as a flat list of the loops its first replay ran. These tests check that the lowered
path is taken where it should be, that it gives byte-identical results to the eager step over
many steps (every lowerable op, optimizers, whole epochs), and that whatever it cannot repeat
faithfully (gradients someone kept, tensors made in the step, in-place changes of arguments,
.grad read before backward) replays op by op instead, still with the eager results."""
import os
import subprocess
import sys

import numpy as np
import pytest

import gdcore
from gdcore import nn, optim
from gdcore.workflows.lenet import LeNet
from epoch_runs import as_bytes, lowered_program, regression_epochs

from test_compile import OPS


# Ops whose loops all go through the kernel trace; the others replay op by op.
NOT_LOWERED = {"cat", "stack"}


@pytest.mark.parametrize("name, shape, fn", OPS, ids=[case[0] for case in OPS])
def test_each_op_lowered_gives_the_eager_bytes(name, shape, fn):
    """The op applied to x * P (P a parameter), its gradient taken into P.grad: five steps, eager and compiled."""
    gen = gdcore.Generator(3)
    start = gdcore.randn(*shape, generator=gen)
    xs = [gdcore.randn(*shape, generator=gen) for _ in range(6)]
    results = []
    for compiled in (False, True):
        P = start.clone().requires_grad_()

        def step(x):
            out = fn(x * P)
            (out * out).sum().backward()
            g = P.grad.clone()
            P.grad = None
            return out, g
        run = gdcore.compile(step) if compiled else step
        results.append([as_bytes(run(x)) for x in xs])
    assert results[0] == results[1]
    expected = "op by op" if name in NOT_LOWERED else "lowered"
    assert lowered_program(run).lowering.startswith(expected), lowered_program(run).lowering


def torch_style(model, optimizer):
    def step(x, y):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        return loss
    return step


@pytest.mark.parametrize("make_optimizer, lowered", [
    (lambda ps: optim.SGD(ps, lr=0.05), "lowered"),
    (lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01), "lowered"),
    (lambda ps: optim.Adam(ps, lr=0.01), "lowered"),  # Adam's update runs live (its step count changes)
])
def test_training_steps_lowered_match_eager(make_optimizer, lowered):
    gen = gdcore.Generator(1)
    batches = [(gdcore.randn(8, 4, generator=gen), gdcore.randn(8, 2, generator=gen)) for _ in range(10)]
    runs = []
    for compiled in (False, True):
        gdcore.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
        step = torch_style(model, make_optimizer(model.parameters()))
        run = gdcore.compile(step) if compiled else step
        losses = [run(x, y) for x, y in batches]
        runs.append((as_bytes(losses), as_bytes(model.parameters()), as_bytes(p.grad for p in model.parameters())))
    assert runs[0] == runs[1]
    assert lowered_program(run).lowering == lowered


def test_lenet_steps_lowered_match_eager():
    """Convolution, max pooling and their backward rules run lowered too (batches of 3: one GEMM chunk)."""
    gen = gdcore.Generator(6)
    batches = [(gdcore.randn(3, 1, 32, 32, generator=gen), gdcore.randn(3, 10, generator=gen)) for _ in range(5)]
    runs = []
    for compiled in (False, True):
        gdcore.manual_seed(0)
        model = LeNet()
        step = torch_style(model, optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
        run = gdcore.compile(step) if compiled else step
        losses = [run(x, y) for x, y in batches]
        runs.append((as_bytes(losses), as_bytes(model.parameters())))
    assert runs[0] == runs[1]
    assert lowered_program(run).lowering == "lowered"


def test_gradients_kept_between_steps_are_never_overwritten():
    """A .grad someone holds is not reused as the next step's buffer: those replays go op by op."""
    gen = gdcore.Generator(2)
    batches = [(gdcore.randn(5, 3, generator=gen), gdcore.randn(5, 1, generator=gen)) for _ in range(8)]
    runs = []
    for compiled in (False, True):
        gdcore.manual_seed(0)
        model = nn.Linear(3, 1)
        step = torch_style(model, optim.SGD(model.parameters(), lr=0.1))
        run = gdcore.compile(step) if compiled else step
        kept = []
        for k, (x, y) in enumerate(batches):
            run(x, y)
            if k % 2:
                kept.append(model.weight.grad)  # held until the end
        runs.append((as_bytes(kept), as_bytes(model.parameters())))
    assert runs[0] == runs[1]
    assert lowered_program(run).lowering == "lowered"


def test_outputs_are_fresh_tensors_at_every_lowered_replay():
    w = gdcore.tensor([1.0, -1.0], requires_grad=True)

    @gdcore.compile
    def step(x):
        loss = ((x * w).sum() - 1) ** 2
        loss.backward()
        with gdcore.no_grad():
            w.sub_(0.1 * w.grad)
        w.grad = None
        return loss
    xs = [gdcore.tensor([float(k), 1.0]) for k in range(6)]
    losses = [step(x) for x in xs]
    assert lowered_program(step).lowering == "lowered"
    # Independently, in numpy.
    wn, expected = np.array([1.0, -1.0], dtype=np.float32), []
    for k in range(6):
        x = np.array([k, 1.0], dtype=np.float32)
        r = np.float32(x @ wn - 1)
        expected.append(r * r)
        wn = wn - np.float32(0.1) * (2 * r * x)
    assert [loss.item() for loss in losses] == pytest.approx(expected, rel=1e-6)
    assert w.tolist() == pytest.approx(wn.tolist(), rel=1e-6)


def refused(step_body):
    """Runs step_body eagerly and compiled over five steps; returns (compiled lowering, results equal)."""
    results = []
    for compiled in (False, True):
        state = {"w": gdcore.tensor([0.5, -0.25], requires_grad=True)}
        run = gdcore.compile(lambda x: step_body(state, x)) if compiled else (lambda x: step_body(state, x))
        xs = [gdcore.tensor([1.0 + k, 2.0 - k]) for k in range(5)]
        outs = [run(x.clone()) for x in xs]
        results.append((as_bytes(outs), as_bytes([state["w"]])))
    return lowered_program(run).lowering, results[0] == results[1]


def test_steps_the_lowering_refuses_still_replay_correctly():
    def creates(state, x):
        w = state["w"]
        loss = (((x * w).sum() + gdcore.ones(1)) ** 2).sum()
        loss.backward()
        with gdcore.no_grad():
            w -= 0.01 * w.grad
        w.grad = None
        return loss

    def changes_its_argument(state, x):
        w = state["w"]
        loss = (x * w).sum() ** 2
        loss.backward()
        with gdcore.no_grad():
            x.mul_(2)
            w -= 0.01 * w.grad
        w.grad = None
        return loss
    for body, why in [(creates, "creates a tensor"),
                      (changes_its_argument, "changes one of its arguments")]:
        state, same = refused(body)
        assert same, body.__name__
        assert state.startswith("op by op") and why in state, (body.__name__, state)


def test_gradients_zeroed_in_place_or_accumulated_are_lowered():
    """Steps that keep .grad and zero it in place (or let it grow) run lowered while .grad stays the same
    tensor; when someone replaces it between calls, that call and the later ones go op by op."""
    def zeroes(w, b, x, y):
        loss = ((x @ w + b - y) ** 2 / 2).mean()
        loss.backward()
        with gdcore.no_grad():
            w.sub_(0.01 * w.grad)
            b.sub_(0.01 * b.grad)
        w.grad.zero_()
        b.grad.zero_()
        return loss

    def accumulates(w, b, x, y):  # no zeroing at all: .grad grows from step to step
        loss = ((x @ w + b - y) ** 2).sum()
        loss.backward()
        with gdcore.no_grad():
            w.sub_(0.001 * w.grad)
        return loss, w.grad * 1
    gen = gdcore.Generator(4)
    batches = [(gdcore.randn(6, 3, generator=gen), gdcore.randn(6, 1, generator=gen)) for _ in range(9)]
    for body in (zeroes, accumulates):
        runs, states = [], []
        for compiled in (False, True):
            w = gdcore.tensor([[0.1], [-0.2], [0.3]], requires_grad=True)
            b = gdcore.zeros(1, requires_grad=True)
            run = gdcore.compile(lambda x, y: body(w, b, x, y)) if compiled else (lambda x, y: body(w, b, x, y))
            outs = []
            for k, (x, y) in enumerate(batches):
                if k == 5:
                    states.append(lowered_program(run).lowering if compiled else None)
                    w.grad = None  # replaced from outside: the next calls cannot use the traced memory
                    b.grad = None
                out = run(x, y)
                outs += list(out) if isinstance(out, tuple) else [out]
            runs.append((as_bytes(outs), as_bytes([w, b])))
        assert runs[0] == runs[1], body.__name__
        assert states[1] == "lowered", (body.__name__, states[1])


def test_arguments_that_require_grad_replay_op_by_op():
    @gdcore.compile
    def step(x):
        (x * x).sum().backward()
        return x.grad
    for values in ([1.0, 2.0], [3.0, -1.0], [0.5, 0.0]):
        assert step(gdcore.tensor(values, requires_grad=True)).tolist() == [2 * v for v in values]
    assert lowered_program(step).lowering == "op by op: an argument requires grad"


def test_lowered_in_place_updates_bump_versions():
    """A graph built outside the step that saved w must see w changed by lowered replays."""
    w = gdcore.tensor([1.0, 2.0], requires_grad=True)

    @gdcore.compile
    def step(x):
        (x * w).sum().backward()
        with gdcore.no_grad():
            w.sub_(0.1 * w.grad)
        w.grad = None
    for _ in range(3):
        step(gdcore.tensor([1.0, 1.0]))
    assert lowered_program(step).lowering == "lowered"
    outer = (w * w).sum()  # saves w
    step(gdcore.tensor([1.0, 1.0]))  # a lowered replay changes w in place
    with pytest.raises(RuntimeError, match="in-place|inplace"):
        outer.backward()


def test_per_sample_epoch_lowered_matches_the_eager_loop():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 16))
    y = X @ rng.standard_normal(16) + 0.1 * rng.standard_normal(64)
    eager, _ = regression_epochs(X, y, 1, False, gdcore.float64)
    compiled, run = regression_epochs(X, y, 1, True, gdcore.float64)
    assert compiled == eager
    assert lowered_program(run).lowering == "lowered"


def test_lowering_can_be_switched_off():
    code = ("import gdcore\n"
            "w = gdcore.tensor([1.0], requires_grad=True)\n"
            "step = gdcore.compile(lambda x: (x * w).sum().backward())\n"
            "for _ in range(3): step(gdcore.tensor([2.0]))\n"
            "print(next(iter(step._captures.values())).program.lowering)\n")
    env = dict(os.environ, GDCORE_COMPILE_LOWER="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "off (GDCORE_COMPILE_LOWER=0)"
