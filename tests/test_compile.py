"""gdcore.compile: steps captured once and replayed in C++ give bit-identical results to the
eager path (parameters and losses compared byte for byte after several steps), a whole
epoch run in C++ matches the eager DataLoader loop, new signatures capture again, and what
cannot be replayed faithfully raises instead of being frozen silently."""
import numpy as np
import pytest

import gdcore
from gdcore import nn, optim
from gdcore.data import DataLoader, TensorDataset
from gdcore.workflows.lenet import LeNet


def param_bytes(model):
    return [p.detach().numpy().tobytes() for p in model.parameters()]


def loss_bytes(losses):
    return [loss.detach().numpy().tobytes() for loss in losses]


def replays(step):
    """How many calls of a compiled step were replays (not captures)."""
    return sum(capture.program.replays for capture in step._captures.values())


def torch_style_step(model, optimizer, loss_fn=None):
    loss_fn = loss_fn or nn.MSELoss()

    def step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss
    return step


def run_both(build, batches):
    """Losses and parameter bytes of the same training run, eager and compiled (fresh models, same seed)."""
    results = []
    for compiled in (False, True):
        gdcore.manual_seed(0)
        model, optimizer = build()
        step = torch_style_step(model, optimizer)
        if compiled:
            step = gdcore.compile(step)
        losses = [step(x, y) for x, y in batches]
        results.append((loss_bytes(losses), param_bytes(model), model, optimizer, step))
    return results


def linear_points():
    x = gdcore.tensor([[1.0], [2.0], [3.0]])
    return x, 2 * x + 1


def test_linear_sgd_bit_identical_and_matches_numpy():
    x, y = linear_points()
    (eager_losses, eager_params, *_), (losses, params, model, _, step) = run_both(
        lambda: (lambda m: (m, optim.SGD(m.parameters(), lr=0.05)))(nn.Linear(1, 1)), [(x, y)] * 25)
    assert losses == eager_losses and params == eager_params
    assert step.num_captures == 1 and replays(step) == 24
    # Independently: the same 25 steps of gradient descent on the mean squared error in float64 numpy.
    gdcore.manual_seed(0)
    start = nn.Linear(1, 1)
    w, b = float(start.weight.item()), float(start.bias.item())
    xs, ys = np.array([1.0, 2.0, 3.0]), np.array([3.0, 5.0, 7.0])
    for _ in range(25):
        r = w * xs + b - ys
        w, b = w - 0.05 * np.mean(2 * r * xs), b - 0.05 * np.mean(2 * r)
    assert model.weight.item() == pytest.approx(w, rel=1e-5)
    assert model.bias.item() == pytest.approx(b, rel=1e-5)


def test_mlp_adam_bit_identical_and_step_counts_follow():
    g = gdcore.Generator(1)
    batches = [(gdcore.randn(8, 3, generator=g), gdcore.randn(8, 1, generator=g)) for _ in range(12)]

    def build():
        model = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
        return model, optim.Adam(model.parameters(), lr=0.01)
    (eager_losses, eager_params, *_), (losses, params, model, optimizer, step) = run_both(build, batches)
    assert losses == eager_losses and params == eager_params
    assert replays(step) == 11
    assert all(optimizer.state[p]["step"] == 12 for p in model.parameters())


def test_eager_steps_between_replays_keep_adam_in_step():
    x, y = gdcore.randn(4, 2), gdcore.randn(4, 1)
    runs = []
    for compiled in (False, True):
        gdcore.manual_seed(0)
        model = nn.Linear(2, 1)
        optimizer = optim.Adam(model.parameters(), lr=0.1)
        eager = torch_style_step(model, optimizer)
        step = gdcore.compile(eager) if compiled else eager
        step(x, y), step(x, y), eager(x, y), step(x, y)  # one eager step in the middle
        runs.append(param_bytes(model))
    assert runs[0] == runs[1]


def test_hand_written_sgd_bit_identical():
    x = gdcore.linspace(0, 1, 10).reshape(10, 1).expand(10, 3).contiguous() * gdcore.tensor([1.0, -2.0, 0.5])
    y = x @ gdcore.tensor([[1.5], [0.3], [-2.0]]) + 0.7
    runs = []
    for compiled in (False, True):
        w = gdcore.zeros(3, 1, requires_grad=True)
        b = gdcore.zeros(1, requires_grad=True)

        def step(x, y):
            nonlocal w
            loss = ((x @ w + b - y) ** 2).mean()
            loss.backward()
            with gdcore.no_grad():
                w -= 0.1 * w.grad
                b.data -= 0.1 * b.grad
            w.grad.zero_()
            b.grad = None
            return loss
        step = gdcore.compile(step) if compiled else step
        losses = [step(x, y) for _ in range(15)]
        assert not compiled or replays(step) == 14
        runs.append((loss_bytes(losses), w.detach().numpy().tobytes(), b.detach().numpy().tobytes()))
    assert runs[0] == runs[1]
    assert runs[1][0][-1] != runs[1][0][0]  # it trained


def test_lenet_batch_2_bit_identical():
    g = gdcore.Generator(2)
    batches = [(gdcore.randn(2, 1, 32, 32, generator=g), gdcore.randn(2, 10, generator=g)) for _ in range(3)]

    def build():
        model = LeNet()
        return model, optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    (eager_losses, eager_params, *_), (losses, params, _, _, step) = run_both(build, batches)
    assert losses == eager_losses and params == eager_params
    assert replays(step) == 2


def test_run_epoch_matches_the_eager_loader_loop():
    g = gdcore.Generator(3)
    X, y = gdcore.randn(23, 4, generator=g), gdcore.randn(23, 1, generator=g)
    runs = []
    for compiled in (False, True):
        gdcore.manual_seed(0)
        model = nn.Linear(4, 1)
        step = torch_style_step(model, optim.SGD(model.parameters(), lr=0.05, momentum=0.5))
        loader = DataLoader(TensorDataset(X, y), batch_size=5, shuffle=True, generator=gdcore.Generator(7))
        if compiled:
            step = gdcore.compile(step)
            losses = gdcore.cat([step.run_epoch(loader) for _ in range(2)], 0)
            assert step.num_captures == 2  # the full batches of 5 and the last batch of 3
            # epoch 1 replays 3 of its 4 full batches (the first and the last batch are captured); epoch 2 all 5
            assert replays(step) == 8
        else:
            losses = gdcore.cat([step(xb, yb).reshape(1) for _ in range(2) for xb, yb in loader], 0)
        assert tuple(losses.shape) == (10,)
        runs.append((losses.detach().numpy().tobytes(), param_bytes(model)))
    assert runs[0] == runs[1]


def test_epoch_convenience_and_drop_last():
    X, y = gdcore.randn(12, 2), gdcore.randn(12, 1)
    model = nn.Linear(2, 1)
    step = gdcore.compile(torch_style_step(model, optim.SGD(model.parameters(), lr=0.01)))
    losses = step.epoch(X, y, batch_size=5, shuffle=True, drop_last=True, generator=gdcore.Generator(0))
    assert tuple(losses.shape) == (2,) and step.num_captures == 1


def test_new_signature_captures_again_and_replays_each():
    gdcore.manual_seed(0)
    batches = [(gdcore.randn(n, 2), gdcore.randn(n, 1)) for n in (3, 5, 3, 5, 5)]
    (eager_losses, eager_params, *_), (losses, params, _, _, step) = run_both(
        lambda: (lambda m: (m, optim.SGD(m.parameters(), lr=0.1)))(nn.Linear(2, 1)), batches)
    assert losses == eager_losses and params == eager_params
    assert step.num_captures == 2


def test_python_control_flow_is_frozen_at_capture():
    """Python runs only at capture: a Python side effect happens once and a changed global is not seen."""
    w = gdcore.ones(1, requires_grad=True)
    settings = {"scale": 2.0}
    calls = []

    @gdcore.compile
    def step(x):
        calls.append(1)
        out = (w * x).sum() * settings["scale"] if settings["scale"] > 1 else (w * x).sum()
        return out

    x = gdcore.tensor([1.0, 2.0])
    assert step(x).item() == 6.0
    settings["scale"] = 0.5  # would take the other branch eagerly; the replay keeps the captured one
    assert step(gdcore.tensor([2.0, 2.0])).item() == 8.0
    assert len(calls) == 1


def test_reading_a_value_during_capture_raises():
    w = gdcore.ones(1, requires_grad=True)

    @gdcore.compile
    def step(x):
        loss = (w * x).sum()
        if loss:  # bool() of a tensor: a branch on data would be frozen
            loss = loss * 2
        return loss
    with pytest.raises(RuntimeError, match=r"bool\(\).*frozen"):
        step(gdcore.tensor([1.0]))

    @gdcore.compile
    def step_item(x):
        return (w * x).sum().item()
    with pytest.raises(RuntimeError, match=r"item\(\)"):
        step_item(gdcore.tensor([1.0]))
    assert not gdcore._core._capture_active()


def test_random_numbers_from_a_generator_object_raise():
    g = gdcore.Generator(1)

    @gdcore.compile
    def step(x):
        return x * gdcore.randn(3, generator=g)
    with pytest.raises(RuntimeError, match="made during the capture"):
        step(gdcore.ones(3))


def test_tensors_made_inside_the_step_are_made_again_at_each_replay():
    """zeros/ones/tensor(...) and default-generator noise inside the step: fresh at every call, as eagerly."""
    def step(x):
        h = gdcore.zeros(3, requires_grad=True)  # a fresh leaf: its .grad must not accumulate across calls
        noise = gdcore.randn(3) * gdcore.tensor([0.1, 0.2, 0.3])
        ((h + x + noise) * x).sum().backward()
        return h.grad, noise
    runs = []
    for compiled in (False, True):
        gdcore.manual_seed(4)
        f = gdcore.compile(step) if compiled else step
        runs.append([t.numpy().tobytes() for k in range(4) for t in f(gdcore.full((3,), float(k)))])
        assert not compiled or replays(f) == 3
    assert runs[0] == runs[1]
    assert runs[1][1] != runs[1][3]  # new noise at each call


def test_replaced_parameter_raises_at_replay():
    model = nn.Linear(2, 1)
    step = gdcore.compile(torch_style_step(model, optim.SGD(model.parameters(), lr=0.1)))
    x, y = gdcore.randn(4, 2), gdcore.randn(4, 1)
    step(x, y)
    step(x, y)
    model.weight.data = gdcore.zeros(1, 2)  # new memory: the replay would update stale tensors
    with pytest.raises(RuntimeError, match="replaced since the capture"):
        step(x, y)


def test_grad_none_at_capture_but_set_at_replay_raises():
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad(set_to_none=False)  # skips parameters whose .grad is None: true only at the first call
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    compiled = gdcore.compile(step)
    x, y = gdcore.randn(4, 2), gdcore.randn(4, 1)
    compiled(x, y)
    with pytest.raises(RuntimeError, match="was None"):
        compiled(x, y)


def test_bad_arguments_raise():
    model = nn.Linear(2, 1)
    step = gdcore.compile(torch_style_step(model, optim.SGD(model.parameters(), lr=0.1)))
    x = gdcore.randn(4, 2)
    with pytest.raises(TypeError, match="hashable"):
        step(x, [1.0])
    with pytest.raises(TypeError, match="holding tensors"):
        step(x, [x])
    with pytest.raises(ValueError, match="two arguments"):
        step(x, x)
    captured = gdcore.compile(lambda a: a * 2)
    captured(gdcore.ones(2))
    program = next(iter(captured._captures.values())).program
    with pytest.raises(ValueError, match="takes 1 tensor arguments, got 2"):
        program.replay([gdcore.ones(2), gdcore.ones(2)])
    with pytest.raises(ValueError, match=r"captured for a float32 tensor of shape \(2,\)"):
        program.replay([gdcore.ones(3)])


def test_return_values_are_rebuilt():
    @gdcore.compile
    def step(x):
        return x + 1, x * 2
    for v in (1.0, 2.0):
        a, b = step(gdcore.full((2,), v))
        assert a.tolist() == [v + 1] * 2 and b.tolist() == [v * 2] * 2


def test_changed_optimizer_options_capture_again():
    """An lr scheduler changes lr between epochs: the replay must not keep the captured lr."""
    x, y = gdcore.randn(6, 2), gdcore.randn(6, 1)
    runs = []
    for compiled in (False, True):
        gdcore.manual_seed(0)
        model = nn.Linear(2, 1)
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        step = torch_style_step(model, optimizer)
        step = gdcore.compile(step) if compiled else step
        for _ in range(6):
            step(x, y)
            scheduler.step()
        runs.append(param_bytes(model))
    assert runs[0] == runs[1]
    assert step.num_captures == 1  # a stale capture is replaced, not kept


def test_rmsprop_step_count_follows_replays():
    model = nn.Linear(2, 1)
    optimizer = optim.RMSprop(model.parameters(), lr=0.01)
    step = gdcore.compile(torch_style_step(model, optimizer))
    x, y = gdcore.randn(4, 2), gdcore.randn(4, 1)
    for _ in range(5):
        step(x, y)
    assert [optimizer.state[p]["step"] for p in model.parameters()] == [5, 5]


def test_basic_and_tensor_indexing_are_replayed():
    @gdcore.compile
    def step(x):
        return x[1:, ::2] * 2 + x[0, None, 1:2]
    for seed in (0, 1):
        x = gdcore.randn(3, 4, generator=gdcore.Generator(seed))
        a = x.numpy()
        assert np.array_equal(step(x).numpy(), a[1:, ::2] * 2 + a[0, None, 1:2])
    assert step.num_captures == 1

    # The index tensor is an input of the recorded op: each replay gathers with the new indices.
    @gdcore.compile
    def gather(x, i):
        return x[i] * 2
    x = gdcore.randn(3)
    for rows in ([0, 2], [1, 1], [2, 0]):
        assert np.array_equal(gather(x, gdcore.tensor(rows)).numpy(), x.numpy()[rows] * 2)
    assert gather.num_captures == 1


def test_autograd_grad_with_create_graph_is_replayed():
    """A gradient penalty: d/dw of (dL/dw)^2 through autograd.grad(create_graph=True), checked by hand.

    L = sum((w * x)^2) has dL/dw = 2 w x^2, so the step's backward of sum((dL/dw)^2) = sum(4 w^2 x^4)
    leaves w.grad = 8 w x^4."""
    w = gdcore.tensor([1.0, -2.0], requires_grad=True)

    @gdcore.compile
    def step(x):
        w.grad = None
        (g,) = gdcore.autograd.grad(((w * x) ** 2).sum(), [w], create_graph=True)
        penalty = (g ** 2).sum()
        penalty.backward()
        return penalty
    for x in ([1.0, 2.0], [0.5, 3.0], [2.0, -1.0]):
        step(gdcore.tensor(x))
        expected = [8 * wi * xi ** 4 for wi, xi in zip([1.0, -2.0], x)]
        assert w.grad.tolist() == pytest.approx(expected)
    assert step.num_captures == 1


def test_run_epoch_with_a_tuple_result_and_no_shuffle():
    X, y = gdcore.randn(9, 2), gdcore.randn(9, 1)
    runs = []
    for compiled in (False, True):
        gdcore.manual_seed(0)
        model = nn.Linear(2, 1)
        optimizer = optim.Adam(model.parameters(), lr=0.01)

        def step(xb, yb):
            optimizer.zero_grad()
            pred = model(xb)
            loss = nn.functional.mse_loss(pred, yb)
            loss.backward()
            optimizer.step()
            return loss, pred
        loader = DataLoader(TensorDataset(X, y), batch_size=3)
        if compiled:
            losses = gdcore.compile(step).run_epoch(loader)
        else:
            losses = gdcore.cat([step(xb, yb)[0].reshape(1) for xb, yb in loader], 0)
        runs.append((losses.detach().numpy().tobytes(), param_bytes(model)))
    assert runs[0] == runs[1]


_gen = gdcore.Generator(11)
W = gdcore.randn(3, 4, generator=_gen)
M = gdcore.randn(4, 5, generator=_gen)
T = gdcore.randn(2, 3, 4, generator=_gen)
K = gdcore.randn(4, 3, 3, 3, generator=_gen)
KB = gdcore.randn(4, generator=_gen)
F = nn.functional
OPS = [  # (name, input shape, function of x): every replayable op family, with its attributes
    ("add", (2, 3, 4), lambda x: x + W), ("sub", (2, 3, 4), lambda x: 1 - x - 2.0), ("mul", (2, 3, 4), lambda x: x * W),
    ("div", (2, 3, 4), lambda x: x / (W.abs() + 1)), ("pow", (2, 3, 4), lambda x: (x.abs() + 0.5) ** W),
    ("pow_scalar", (2, 3, 4), lambda x: x ** 3), ("neg", (2, 3, 4), lambda x: -x),
    ("maximum", (2, 3, 4), lambda x: gdcore.maximum(x, W)), ("minimum", (2, 3, 4), lambda x: gdcore.minimum(x, W)),
    ("abs", (2, 3, 4), lambda x: x.abs()), ("exp", (2, 3, 4), lambda x: x.exp()),
    ("log", (2, 3, 4), lambda x: (x.abs() + 1).log()), ("sqrt", (2, 3, 4), lambda x: (x.abs() + 1).sqrt()),
    ("sin", (2, 3, 4), lambda x: x.sin()), ("cos", (2, 3, 4), lambda x: x.cos()), ("tan", (2, 3, 4), lambda x: x.tan()),
    ("tanh", (2, 3, 4), lambda x: x.tanh()), ("sinh", (2, 3, 4), lambda x: x.sinh()),
    ("cosh", (2, 3, 4), lambda x: x.cosh()), ("sigmoid", (2, 3, 4), lambda x: x.sigmoid()),
    ("relu", (2, 3, 4), lambda x: x.relu()), ("clamp", (2, 3, 4), lambda x: x.clamp(-0.5, 0.5)),
    ("clamp_min", (2, 3, 4), lambda x: x.clamp(min=0.1)),
    ("sum_all", (2, 3, 4), lambda x: x.sum()), ("sum_dim", (2, 3, 4), lambda x: x.sum(1)),
    ("sum_keepdim", (2, 3, 4), lambda x: x.sum((0, 2), keepdim=True)), ("mean", (2, 3, 4), lambda x: x.mean(2, True)),
    ("amax", (2, 3, 4), lambda x: x.amax(1)), ("amin", (2, 3, 4), lambda x: x.amin((0, 1), keepdim=True)),
    ("mm", (2, 3, 4), lambda x: x.reshape(6, 4) @ M), ("matmul_batched", (2, 3, 4), lambda x: x @ M),
    ("bmm", (2, 3, 4), lambda x: gdcore.bmm(x, x.transpose(1, 2))),
    ("linear", (2, 3, 4), lambda x: F.linear(x, M.t(), KB[:1].expand(5).contiguous())),
    ("mse_mean", (2, 3, 4), lambda x: F.mse_loss(x, T)), ("mse_sum", (2, 3, 4), lambda x: F.mse_loss(x, T, "sum")),
    ("mse_none", (2, 3, 4), lambda x: F.mse_loss(x, T, reduction="none")),
    ("conv2d", (2, 3, 7, 7), lambda x: F.conv2d(x, K, KB, stride=2, padding=1)),
    ("max_pool2d", (2, 3, 7, 7), lambda x: F.max_pool2d(x, 3, stride=2, padding=1)),
    ("reshape_view", (2, 3, 4), lambda x: x.reshape(6, 4)),
    ("reshape_copy", (2, 3, 4), lambda x: x.transpose(0, 2).reshape(-1)),
    ("view", (2, 3, 4), lambda x: x.view(2, 12)), ("squeeze", (2, 3, 4), lambda x: x.unsqueeze(1).squeeze(1)),
    ("permute", (2, 3, 4), lambda x: x.permute(2, 0, 1)), ("transpose", (2, 3, 4), lambda x: x.transpose(0, 2)),
    ("expand", (2, 3, 4), lambda x: x.unsqueeze(0).expand(5, 2, 3, 4)), ("clone", (2, 3, 4), lambda x: x.clone()),
    ("contiguous", (2, 3, 4), lambda x: x.transpose(0, 1).contiguous()),
    ("to_float64", (2, 3, 4), lambda x: x.to(gdcore.float64)), ("cat", (2, 3, 4), lambda x: gdcore.cat([x, x * 2], 1)),
    ("stack", (2, 3, 4), lambda x: gdcore.stack([x, x], 0)), ("index", (2, 3, 4), lambda x: x[1, :, ::2]),
    ("index_new_axis", (2, 3, 4), lambda x: x[..., None, 1:3]),
]


@pytest.mark.parametrize("name, shape, fn", OPS, ids=[case[0] for case in OPS])
def test_each_op_replays_bit_identically(name, shape, fn):
    """Captured on one input, replayed on another: output and input gradient equal the eager ones byte for byte."""
    def step(x):
        out = fn(x)
        (out * out).sum().backward()
        return out, x.grad
    compiled = gdcore.compile(step)
    g = gdcore.Generator(5)
    for _ in range(3):
        x = gdcore.randn(*shape, generator=g)
        eager = step(x.clone().requires_grad_())
        replayed = compiled(x.clone().requires_grad_())
        for a, b in zip(eager, replayed):
            assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
            assert a.detach().numpy().tobytes() == b.detach().numpy().tobytes()
    assert compiled.num_captures == 1 and replays(compiled) == 2


def test_requires_grad_set_inside_the_step_is_replayed():
    @gdcore.compile
    def step(x):
        x.requires_grad_()
        (x * x).sum().backward()
        return x.grad
    for values in ([1.0, -2.0], [3.0, 0.5]):
        assert step(gdcore.tensor(values)).tolist() == [2 * v for v in values]  # d/dx sum(x^2) = 2x
    assert replays(step) == 1


def test_load_state_dict_captures_again():
    x, y = gdcore.randn(6, 2), gdcore.randn(6, 1)
    runs = []
    for compiled in (False, True):
        gdcore.manual_seed(0)
        model = nn.Linear(2, 1)
        optimizer = optim.Adam(model.parameters(), lr=0.1)
        step = torch_style_step(model, optimizer)
        step = gdcore.compile(step) if compiled else step
        step(x, y), step(x, y)
        saved = optimizer.state_dict()
        step(x, y), step(x, y)
        optimizer.load_state_dict(saved)  # new state tensors: a stale replay would update the old ones
        step(x, y), step(x, y)
        runs.append(param_bytes(model))
    assert runs[0] == runs[1]
