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


# ---- the vectorcall type (the call reaches C++ without __call__ lookup or argument tuple) ----

def test_compiled_step_is_called_through_the_c_type():
    x, y = points()
    _, _, step = make()
    assert type(step).__call__ is gdcore._core._CompiledCall.__call__  # no Python __call__ in between
    assert step(x, y).shape == () and step(*(x, y)).shape == ()  # direct and star calls
    assert type(step).__call__(step, x, y).shape == () and the_capture(step).program.replays == 2
    with pytest.raises(TypeError, match="takes no arguments"):
        gdcore._core._CompiledCall(1)
    with pytest.raises(TypeError, match="must be bytes"):
        step._set_fast(1, None, "none", [])


def test_a_subclass_that_overrides_call_keeps_its_own():
    class Logged(type(gdcore.compile(print))):
        calls = 0

        def __call__(self, *args, **kwargs):
            Logged.calls += 1
            return super().__call__(*args, **kwargs)

    x, y = points()
    model, opt, plain = make()
    step = Logged(plain._fn)
    for _ in range(4):
        step(x, y)
    assert Logged.calls == 4 and step._num_fast == 1 and the_capture(step).program.replays == 3


def test_errors_of_the_cpp_replay_are_python_exceptions():
    x, y = points()
    model, _, step = make()
    step(x, y), step(x, y)
    model.weight.data = gdcore.zeros(2, 1)  # a parameter replaced: the replay refuses, as before
    with pytest.raises(RuntimeError, match=r"was replaced since the capture"):
        step(x, y)


def test_group_changed_between_cpp_calls_is_seen_each_time():
    x, y = points()
    model, opt, step = make()
    w0, b0 = model.weight.item(), model.bias.item()
    lrs = [0.05, 0.05, 0.01, 0.01, 0.05, 0.02, 0.02]
    for lr in lrs:
        opt.param_groups[0]["lr"] = lr
        step(x, y)
    w, b = numpy_descent(w0, b0, lrs)
    assert model.weight.item() == pytest.approx(w, rel=1e-4) and model.bias.item() == pytest.approx(b, rel=1e-4)
    params = opt.param_groups[0]["params"]
    params[0], params[1] = params[1], params[0]  # the same parameters in another order: a new capture
    before = the_capture(step)
    step(x, y)
    assert the_capture(step) is not before


def resident_bytes():
    """This process's resident memory (Linux), or None elsewhere."""
    import os
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def test_many_calls_do_not_leak_objects_or_memory():
    """10^5 calls: Python objects (gc, tracemalloc) and C++ memory (resident size: a leaked tensor
    per call would be >= 10 MB) stay flat."""
    import gc
    import tracemalloc
    x, y = points()
    _, _, step = make(lr=0.001)
    for _ in range(100):
        step(x, y)
    gc.collect()
    objects, resident = len(gc.get_objects()), resident_bytes()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        for _ in range(100_000):
            step(x, y)
        gc.collect()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert the_capture(step).program.replays == 100_099
    assert len(gc.get_objects()) - objects < 50 and end - start < 64 * 1024
    if resident is not None:
        assert resident_bytes() - resident < 8 * 2**20


def test_step_and_its_optimizer_in_a_cycle_are_collected():
    import gc
    import weakref
    x, y = points()
    _, opt, step = make()
    step(x, y), step(x, y)
    opt.compiled = step  # step -> guard -> optimizer -> step: only the collector can free it
    ref = weakref.ref(step)
    del step, opt
    gc.collect()
    assert ref() is None


def test_calls_from_several_threads_replay_every_step():
    import threading
    x, y = points()
    model, _, step = make(lr=0.001)
    step(x, y), step(x, y)
    errors = []

    def work():
        try:
            for _ in range(500):
                step(x, y)
        except BaseException as e:  # noqa: BLE001  (reported below)
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and the_capture(step).program.replays == 1 + 4 * 500
    assert np.isfinite(model.weight.item())


def test_a_step_too_big_to_hold_the_gil_replays_the_same():
    gdcore.manual_seed(0)
    x = gdcore.randn(256, 64)
    y = gdcore.randn(256, 1)
    runs = []
    for compiled in (False, True):
        gdcore.manual_seed(1)
        model = nn.Linear(64, 1)
        opt = optim.SGD(model.parameters(), lr=0.01)

        def step(xb, yb):
            opt.zero_grad()
            loss = ((model(xb) - yb) ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        if compiled:
            step = gdcore.compile(step)
        runs.append([step(x, y).detach().numpy().tobytes() for _ in range(4)])
        if compiled:
            assert step._num_fast == 1 and the_capture(step).program.lowering == "lowered"
    assert runs[0] == runs[1]
