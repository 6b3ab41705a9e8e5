"""The Optimizer base class: parameter groups, zero_grad, step(closure), state dicts,
hyperparameter validation and error messages; and a hand-written optimizer in the
seeds' style (reading p.grad, writing p.data) that must keep working."""
import math

import numpy as np
import pytest

import gdcore
import gdcore.optim as optim

ALL = [optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adadelta, optim.Adam, optim.AdamW]
# Options that make each optimizer use all of its state buffers.
FULL_OPTIONS = {
    optim.SGD: dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    optim.Adagrad: dict(lr=0.1, lr_decay=0.01),
    optim.RMSprop: dict(lr=0.01, momentum=0.5, centered=True),
    optim.Adadelta: dict(lr=1.0),
    optim.Adam: dict(lr=0.05, amsgrad=True, weight_decay=0.01),
    optim.AdamW: dict(lr=0.05, amsgrad=True),
}


def _params(dtype=gdcore.float32, seed=0):
    rng = np.random.default_rng(seed)
    return [gdcore.tensor(rng.normal(size=s), dtype=dtype, requires_grad=True) for s in [(3, 2), (2,), (4,)]]


def _values(params):
    return [p.detach().numpy().copy() for p in params]


def _train(opt, params, steps, start=0):
    """A few steps on a fixed quadratic with a sine term (gradients change every step)."""
    for k in range(start, start + steps):
        opt.zero_grad()
        loss = sum(((p - 0.1 * (k % 3)) ** 2).sum() + gdcore.sin(p).sum() for p in params)
        loss.backward()
        opt.step()


# ---- construction and parameter groups -------------------------------------------------
def test_params_may_be_a_generator_and_groups_take_defaults():
    params = _params()
    opt = optim.SGD((p for p in params[:2]), lr=0.1, momentum=0.9)
    opt.add_param_group({"params": params[2], "lr": 0.01})
    assert [len(g["params"]) for g in opt.param_groups] == [2, 1]
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.9
    assert opt.defaults["lr"] == 0.1


def test_added_group_is_updated_with_its_own_options():
    a = gdcore.tensor([1.0], dtype=gdcore.float64, requires_grad=True)
    b = gdcore.tensor([1.0], dtype=gdcore.float64, requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.5})
    a.grad = gdcore.tensor([2.0], dtype=gdcore.float64)
    b.grad = gdcore.tensor([2.0], dtype=gdcore.float64)
    opt.step()
    assert a.item() == pytest.approx(1.0 - 0.1 * 2.0) and b.item() == pytest.approx(1.0 - 0.5 * 2.0)


@pytest.mark.parametrize("bad,exc,match", [
    (lambda ps: ps[0], TypeError, "single tensor"),
    (lambda ps: [], ValueError, "empty parameter list"),
    (lambda ps: {"params": ps}, TypeError, "wrap the group in a list"),
    (lambda ps: set(ps), TypeError, "not a set"),
    (lambda ps: [ps[0], 3.0], TypeError, "parameter 1 of group 0 is a float"),
    (lambda ps: [ps[0] * 2], ValueError, "not a leaf"),
    (lambda ps: [gdcore.arange(3)], TypeError, "int64"),
    (lambda ps: [ps[0], ps[0]], ValueError, "appears twice"),
    (lambda ps: [{"params": [ps[0]]}, {"params": [ps[0], ps[1]]}], ValueError, "one parameter group only"),
    (lambda ps: [{"params": [ps[0]]}, ps[1]], TypeError, "must be a dict"),
    (lambda ps: [{"lr": 0.1}], ValueError, "no 'params'"),
])
def test_bad_params_raise_clear_errors(bad, exc, match):
    with pytest.raises(exc, match=match):
        optim.SGD(bad(_params()), lr=0.1)


def test_non_contiguous_parameter_is_refused():
    p = gdcore.randn(3, 2).t().requires_grad_()
    with pytest.raises(ValueError, match="not contiguous"):
        optim.Adam([p])


# ---- hyperparameter validation -----------------------------------------------------------
@pytest.mark.parametrize("cls,kwargs,match", [
    (optim.SGD, dict(lr=-0.1), "lr"),
    (optim.SGD, dict(lr=math.nan), "lr"),
    (optim.SGD, dict(lr=math.inf), "lr"),
    (optim.SGD, dict(lr=0.1, momentum=-0.5), "momentum"),
    (optim.SGD, dict(lr=0.1, weight_decay=-1e-4), "weight_decay"),
    (optim.SGD, dict(lr=0.1, nesterov=True), "nesterov"),
    (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
    (optim.Adagrad, dict(lr_decay=-1.0), "lr_decay"),
    (optim.Adagrad, dict(initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (optim.Adagrad, dict(eps=-1e-10), "eps"),
    (optim.RMSprop, dict(alpha=-0.1), "alpha"),
    (optim.RMSprop, dict(momentum=-0.1), "momentum"),
    (optim.Adadelta, dict(rho=1.5), "rho"),
    (optim.Adam, dict(betas=(1.0, 0.999)), r"betas\[0\]"),
    (optim.Adam, dict(betas=(0.9, -0.1)), r"betas\[1\]"),
    (optim.AdamW, dict(eps=-1.0), "eps"),
    (optim.AdamW, dict(weight_decay=-0.1), "weight_decay"),
])
def test_invalid_hyperparameters_raise_value_error(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(_params(), **kwargs)


@pytest.mark.parametrize("cls,kwargs,match", [
    (optim.SGD, dict(lr="0.1"), "lr must be a real number"),
    (optim.SGD, dict(lr=0.1, nesterov="yes"), "nesterov must be True or False"),
    (optim.Adam, dict(betas=0.9), "betas must be a pair"),
    (optim.SGD, dict(lr=0.1, momentun=0.9), "momentun"),
    (optim.Adam, dict(beta1=0.9), "beta1"),
])
def test_wrong_types_and_unknown_keywords_raise_type_error(cls, kwargs, match):
    with pytest.raises(TypeError, match=match):
        cls(_params(), **kwargs)


def test_group_options_are_validated_too():
    ps = _params()
    with pytest.raises(ValueError, match="lr"):
        optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": -1.0}], lr=0.1)
    opt = optim.Adam(ps[:1])
    with pytest.raises(ValueError, match="betas"):
        opt.add_param_group({"params": ps[1:], "betas": (0.9, 1.0)})


def test_bad_lr_set_between_steps_raises_and_changes_nothing():
    ps = _params(gdcore.float64)
    opt = optim.Adam(ps, lr=0.1)
    _train(opt, ps, 2)
    before = _values(ps)
    steps_before = [opt.state[p]["step"] for p in ps]
    opt.param_groups[0]["lr"] = math.nan
    with pytest.raises(ValueError, match="lr must be a finite number"):
        opt.step()
    for b, p in zip(before, ps):
        np.testing.assert_array_equal(b, p.detach().numpy())
    assert [opt.state[p]["step"] for p in ps] == steps_before


# ---- zero_grad and step ----------------------------------------------------------------
def test_zero_grad_sets_none_by_default():
    ps = _params()
    opt = optim.SGD(ps, lr=0.1)
    sum((p * p).sum() for p in ps).backward()
    assert all(p.grad is not None for p in ps)
    opt.zero_grad()
    assert all(p.grad is None for p in ps)
    opt.step()  # no gradients: nothing happens, no error


def test_zero_grad_set_to_none_false_zeroes_in_place():
    ps = _params()
    opt = optim.SGD(ps, lr=0.1)
    sum((p * p).sum() for p in ps).backward()
    ptrs = [p.grad.data_ptr() for p in ps]
    opt.zero_grad(set_to_none=False)
    for p, ptr in zip(ps, ptrs):
        assert p.grad is not None and p.grad.data_ptr() == ptr
        assert not p.grad.numpy().any()
    # Gradients accumulate again from zero.
    sum((p * 3.0).sum() for p in ps).backward()
    for p in ps:
        np.testing.assert_array_equal(p.grad.numpy(), np.full(p.shape, 3.0, dtype=np.float32))


def test_zero_grad_detaches_a_gradient_with_history():
    p = gdcore.tensor([1.0, 2.0], requires_grad=True)
    (p ** 3).sum().backward(create_graph=True)
    assert p.grad.requires_grad
    optim.SGD([p], lr=0.1).zero_grad(set_to_none=False)
    assert not p.grad.requires_grad and p.grad.grad_fn is None
    assert p.grad.tolist() == [0.0, 0.0]


def test_step_with_closure_returns_its_loss_and_enables_grad():
    p = gdcore.tensor([3.0], dtype=gdcore.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with gdcore.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0
    assert p.item() == pytest.approx(3.0 - 0.25 * 6.0)


def test_step_bumps_the_version_so_stale_graphs_refuse_backward():
    p = gdcore.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    stale = (p * p).sum()  # saves p
    v = p._version
    opt.step()
    assert p._version > v
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        stale.backward()


def test_read_only_numpy_parameter_is_refused_at_step():
    arr = np.ones(3, dtype=np.float32)
    arr.setflags(write=False)
    p = gdcore.from_numpy(arr).requires_grad_()
    opt = optim.SGD([p], lr=0.1)
    p.grad = gdcore.ones(3)
    with pytest.raises(ValueError, match="read-only"):
        opt.step()
    assert arr.tolist() == [1.0, 1.0, 1.0]


# ---- state dicts -----------------------------------------------------------------------
@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
@pytest.mark.parametrize("dtype", [gdcore.float32, gdcore.float64], ids=["float32", "float64"])
def test_state_dict_round_trip_continues_identically(cls, dtype):
    ps_a = _params(dtype)
    opt_a = cls([{"params": ps_a[:2]}, {"params": ps_a[2:], "lr": 0.02}], **FULL_OPTIONS[cls])
    _train(opt_a, ps_a, 3)
    saved = opt_a.state_dict()

    ps_b = [gdcore.tensor(p.detach().numpy(), dtype=dtype, requires_grad=True) for p in ps_a]
    opt_b = cls([{"params": ps_b[:2]}, {"params": ps_b[2:]}], lr=123.0)  # options come from the state dict
    opt_b.load_state_dict(saved)
    assert opt_b.param_groups[1]["lr"] == 0.02 and opt_b.param_groups[0]["lr"] == FULL_OPTIONS[cls]["lr"]

    _train(opt_a, ps_a, 4, start=3)
    _train(opt_b, ps_b, 4, start=3)
    for a, b in zip(ps_a, ps_b):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_state_dict_format_refers_to_params_by_index_and_is_a_snapshot():
    ps = _params()
    opt = optim.Adam([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.1}])
    _train(opt, ps, 2)
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sorted(sd["state"]) == [0, 1, 2]
    assert sd["state"][2]["step"] == 2
    snapshot = sd["state"][0]["exp_avg"].numpy().copy()
    _train(opt, ps, 1, start=2)
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"].numpy(), snapshot)
    assert sd["state"][0]["step"] == 2


def test_load_state_dict_accepts_string_keys_and_casts_dtype():
    ps64 = _params(gdcore.float64)
    opt64 = optim.SGD(ps64, lr=0.1, momentum=0.9)
    _train(opt64, ps64, 2)
    sd = opt64.state_dict()
    sd["state"] = {str(k): v for k, v in sd["state"].items()}  # as a text-keyed file format may give back
    ps32 = _params(gdcore.float32)
    opt32 = optim.SGD(ps32, lr=0.1, momentum=0.9)
    opt32.load_state_dict(sd)
    buf = opt32.state[ps32[0]]["momentum_buffer"]
    assert buf.dtype == gdcore.float32
    np.testing.assert_allclose(buf.numpy(), opt64.state[ps64[0]]["momentum_buffer"].numpy(), rtol=1e-6)


def test_load_state_dict_does_not_alias_the_source():
    ps = _params()
    opt = optim.SGD(ps, lr=0.1, momentum=0.9)
    _train(opt, ps, 1)
    sd = opt.state_dict()
    opt.load_state_dict(sd)
    before = sd["state"][0]["momentum_buffer"].numpy().copy()
    _train(opt, ps, 2, start=1)
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"].numpy(), before)


@pytest.mark.parametrize("mutate,match", [
    (lambda sd: sd["param_groups"].append({"params": [], "lr": 0.1}), "2 parameter groups but the optimizer has 1"),
    (lambda sd: sd["param_groups"][0]["params"].pop(), "has 2 parameters but the optimizer's group 0 has 3"),
    (lambda sd: sd.pop("state"), "'state' and 'param_groups'"),
    (lambda sd: sd["state"].__setitem__(7, {"momentum_buffer": gdcore.zeros(3)}), "parameter 7"),
    (lambda sd: sd["state"][0].__setitem__("momentum_buffer", gdcore.zeros(5)), "shape"),
    (lambda sd: sd["param_groups"][0].__setitem__("lr", -1.0), "lr"),
])
def test_load_state_dict_validates(mutate, match):
    ps = _params()
    opt = optim.SGD(ps, lr=0.1, momentum=0.9)
    _train(opt, ps, 1)
    sd = opt.state_dict()
    mutate(sd)
    with pytest.raises(ValueError, match=match):
        optim.SGD(_params(), lr=0.1, momentum=0.9).load_state_dict(sd)


def test_repr_lists_groups_and_options():
    text = repr(optim.SGD(_params(), lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


# ---- a hand-written optimizer in the seeds' style ---------------------------------------
class HandSGD:
    """The chapter's own optimizer: reads p.grad, writes p.data."""

    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    def step(self):
        for p in self.params:
            p.data -= self.lr * p.grad.data

    def zero_grad(self):
        for p in self.params:
            p.grad.data.zero_()


def test_hand_written_optimizer_trains_plain_tensors():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(100, 1))
    y = 3.0 * x + 10.0 + 0.01 * rng.normal(size=(100, 1))
    X, Y = gdcore.tensor(x, dtype=gdcore.float64), gdcore.tensor(y, dtype=gdcore.float64)
    w = gdcore.zeros(1, 1, dtype=gdcore.float64, requires_grad=True)
    b = gdcore.zeros(1, dtype=gdcore.float64, requires_grad=True)
    opt = HandSGD([w, b], lr=0.1)
    w_ref, b_ref = np.zeros((1, 1)), np.zeros(1)
    for it in range(300):
        loss = (((X.mm(w) + b) - Y) ** 2 / 2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
        # The same gradient descent in numpy: d/dw mean((xw + b - y)^2 / 2) = x^T r / m.
        r = x @ w_ref + b_ref - y
        w_ref, b_ref = w_ref - 0.1 * x.T @ r / len(x), b_ref - 0.1 * r.mean(axis=0)
        if it < 5:
            np.testing.assert_allclose(w.detach().numpy(), w_ref, rtol=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), w_ref, rtol=1e-9)
    np.testing.assert_allclose(b.detach().numpy(), b_ref, rtol=1e-9)
    assert w.item() == pytest.approx(3.0, abs=0.01) and b.item() == pytest.approx(10.0, abs=0.01)
    assert w.grad.tolist() == [[0.0]]
