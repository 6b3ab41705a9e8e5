"""gdcore.compile's call path in C++ (cpp/bindings/compiled_call.cpp): a call with tensor
arguments replays without Python when its signature and optimizer groups are as captured,
and every change to a group that the Python check would see (options set through any dict
method, the parameter list changed in place, the groups or state replaced) still sends the
call back to Python, which captures again. Expected values: an independent numpy run of the
same gradient descent, and the eager step's bytes."""
import numpy as np
import pytest

import gdcore
from gdcore import nn, optim


def points():
    x = gdcore.tensor([[1.0], [2.0], [3.0]])
    return x, 2 * x + 1


def make(lr=0.05, optimizer=optim.SGD):
    gdcore.manual_seed(0)
    model = nn.Linear(1, 1)
    opt = optimizer(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return model, opt, gdcore.compile(step)


def numpy_descent(w, b, lrs):
    """Gradient descent on the mean squared error of 2x + 1 at x = 1, 2, 3, one lr per step (float64)."""
    xs, ys = np.array([1.0, 2.0, 3.0]), np.array([3.0, 5.0, 7.0])
    for lr in lrs:
        r = w * xs + b - ys
        w, b = w - lr * 2 * np.mean(r * xs), b - lr * 2 * np.mean(r)
    return w, b


def the_capture(step):
    (capture,) = step._captures.values()
    return capture


def test_sgd_step_replays_in_cpp_and_follows_numpy():
    x, y = points()
    model, _, step = make()
    w0, b0 = model.weight.item(), model.bias.item()
    for _ in range(20):
        step(x, y)
    assert step._num_fast == 1 and the_capture(step).program.replays == 19
    w, b = numpy_descent(w0, b0, [0.05] * 20)
    assert model.weight.item() == pytest.approx(w, rel=1e-4) and model.bias.item() == pytest.approx(b, rel=1e-4)


@pytest.mark.parametrize("change", ["setitem", "update", "dict_setitem", "setdefault_new", "delete_and_restore"])
def test_any_change_to_the_group_dict_is_seen(change):
    x, y = points()
    model, opt, step = make()
    w0, b0 = model.weight.item(), model.bias.item()
    step(x, y), step(x, y)
    first = the_capture(step)
    group = opt.param_groups[0]
    if change == "setitem":
        group["lr"] = 0.02
    elif change == "update":
        group.update(lr=0.02)
    elif change == "dict_setitem":  # bypassing any subclass's __setitem__: the dict's version still moves
        dict.__setitem__(group, "lr", 0.02)
    elif change == "setdefault_new":
        group.setdefault("note", "x")
    else:
        lr = group.pop("lr")
        group["lr"] = lr
    step(x, y), step(x, y)
    changed_options = change not in ("delete_and_restore",)
    assert (the_capture(step) is not first) == changed_options
    lrs = [0.05, 0.05] + ([0.05, 0.05] if change in ("setdefault_new", "delete_and_restore") else [0.02, 0.02])
    w, b = numpy_descent(w0, b0, lrs)
    assert model.weight.item() == pytest.approx(w, rel=1e-4) and model.bias.item() == pytest.approx(b, rel=1e-4)


def test_setting_an_option_to_its_own_value_keeps_the_capture():
    x, y = points()
    _, opt, step = make()
    step(x, y), step(x, y)
    first = the_capture(step)
    opt.param_groups[0]["lr"] = 0.05  # the dict's version moves, its contents do not
    step(x, y), step(x, y)
    assert the_capture(step) is first and first.program.replays == 3


def test_parameter_list_changed_in_place_is_seen():
    x, y = points()
    model, opt, step = make()
    step(x, y), step(x, y)
    first = the_capture(step)
    opt.param_groups[0]["params"].pop()  # the bias is no longer optimized
    bias = model.bias.detach().numpy().tobytes()
    step(x, y), step(x, y)
    assert the_capture(step) is not first
    assert model.bias.detach().numpy().tobytes() == bias


def test_groups_or_state_replaced_is_seen():
    x, y = points()
    _, opt, step = make()
    step(x, y), step(x, y)
    first = the_capture(step)
    opt.load_state_dict(opt.state_dict())  # new group dicts and a new state
    step(x, y)
    second = the_capture(step)
    assert second is not first
    opt.param_groups = list(opt.param_groups)  # same groups in a new list: still current
    step(x, y)
    assert the_capture(step) is second


def test_compiled_and_eager_bytes_agree_through_the_cpp_path():
    x, y = points()
    runs = []
    for compiled in (False, True):
        model, _, step = make()
        if not compiled:
            step = step.__wrapped__
        losses = [step(x, y).detach().numpy().tobytes() for _ in range(6)]
        runs.append((losses, [p.detach().numpy().tobytes() for p in model.parameters()]))
    assert runs[0] == runs[1]


def test_steps_with_python_state_and_other_calls_take_the_python_path():
    x, y = points()
    _, opt, step = make(lr=0.01, optimizer=optim.Adam)  # Adam's step counts live in Python dicts
    for _ in range(3):
        step(x, y)
    assert step._num_fast == 0 and [s["step"] for s in opt.state.values()] == [3, 3]
    _, _, step = make()
    step(x, y=y), step(x, y=y)  # keyword arguments: the Python path
    assert step._num_fast == 0 and step.num_captures == 1
    step(x, y), step(x, y)
    assert step._num_fast == 1 and step.num_captures == 2
    step.reset()
    assert step._num_fast == 0 and step.num_captures == 0


def test_tuple_and_none_results_and_wrong_arguments():
    x, y = points()
    gdcore.manual_seed(0)
    w = gdcore.zeros(1, 1, requires_grad=True)

    def step(xb, yb):
        loss = ((xb @ w - yb) ** 2).mean()
        loss.backward()
        with gdcore.no_grad():
            w.sub_(0.01 * w.grad)
        w.grad = None
        return [loss, xb @ w]

    compiled = gdcore.compile(step)
    out = [compiled(x, y) for _ in range(3)]
    assert all(type(o) is list and len(o) == 2 for o in out) and compiled._num_fast == 1
    with pytest.raises(TypeError, match=r"step\(\) missing 1 required positional argument: 'yb'$") as raised:
        compiled(x)  # a new signature: the Python path, and the step's own TypeError, unchanged
    assert "_CompiledCall" not in str(raised.value)
