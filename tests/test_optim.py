"""Each gdcore.optim optimizer against its textbook update rule, step by step.

The references below are written from torch's documented update rules in float64 numpy,
independently of gdcore. Every case trains several parameters (a matrix, a vector, a
0-d scalar, one that only starts getting gradients at step 3 and one that never does)
in two parameter groups, on the loss sum(a p^2 / 2 + b p + c sin p), for several steps,
and compares every parameter after every step, in float32 and float64.
"""
import math

import numpy as np
import pytest

import gdcore
import gdcore.optim as optim

STEPS = 6
LATE_START = 3  # the "late" parameter gets gradients from this step on
SHAPES = {"matrix": (2, 3), "vector": (4,), "scalar": (), "late": (3,), "frozen": (2,)}


# ---- references: (p, g, state, t, options) -> new p; state is mutated ------------------
def sgd_ref(p, g, s, t, o):
    g = -g if o["maximize"] else g
    g = g + o["weight_decay"] * p
    if o["momentum"] != 0:
        s["b"] = g.copy() if t == 1 else o["momentum"] * s["b"] + (1 - o["dampening"]) * g
        g = g + o["momentum"] * s["b"] if o["nesterov"] else s["b"]
    return p - o["lr"] * g


def adagrad_ref(p, g, s, t, o):
    g = -g if o["maximize"] else g
    g = g + o["weight_decay"] * p
    clr = o["lr"] / (1 + (t - 1) * o["lr_decay"])
    s["sum"] = s.get("sum", np.full_like(p, o["initial_accumulator_value"])) + g * g
    return p - clr * g / (np.sqrt(s["sum"]) + o["eps"])


def rmsprop_ref(p, g, s, t, o):
    g = -g if o["maximize"] else g
    g = g + o["weight_decay"] * p
    a = o["alpha"]
    s["v"] = a * s.get("v", 0.0) + (1 - a) * g * g
    if o["centered"]:
        s["m"] = a * s.get("m", 0.0) + (1 - a) * g
        denom = np.sqrt(s["v"] - s["m"] ** 2) + o["eps"]
    else:
        denom = np.sqrt(s["v"]) + o["eps"]
    if o["momentum"] > 0:
        s["b"] = o["momentum"] * s.get("b", 0.0) + g / denom
        return p - o["lr"] * s["b"]
    return p - o["lr"] * g / denom


def adadelta_ref(p, g, s, t, o):
    g = -g if o["maximize"] else g
    g = g + o["weight_decay"] * p
    rho, eps = o["rho"], o["eps"]
    s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g * g
    delta = np.sqrt(s.get("u", 0.0) + eps) / np.sqrt(s["v"] + eps) * g
    s["u"] = rho * s.get("u", 0.0) + (1 - rho) * delta * delta
    return p - o["lr"] * delta


def adam_ref(p, g, s, t, o, decoupled=False):
    g = -g if o["maximize"] else g
    if decoupled:
        p = p * (1 - o["lr"] * o["weight_decay"])
    else:
        g = g + o["weight_decay"] * p
    b1, b2 = o["betas"]
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    v = s["v"]
    if o["amsgrad"]:
        s["vmax"] = np.maximum(s.get("vmax", 0.0), s["v"])
        v = s["vmax"]
    m_hat = s["m"] / (1 - b1 ** t)
    return p - o["lr"] * m_hat / (np.sqrt(v) / math.sqrt(1 - b2 ** t) + o["eps"])


def adamw_ref(p, g, s, t, o):
    return adam_ref(p, g, s, t, o, decoupled=True)


# torch's defaults, written here independently of gdcore (so the defaults are tested too).
DEFAULTS = {
    "SGD": dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False),
    "Adagrad": dict(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, maximize=False),
    "RMSprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, maximize=False),
    "Adadelta": dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False),
    "Adam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False),
    "AdamW": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False),
}
REFS = {"SGD": sgd_ref, "Adagrad": adagrad_ref, "RMSprop": rmsprop_ref, "Adadelta": adadelta_ref,
        "Adam": adam_ref, "AdamW": adamw_ref}

# (optimizer, constructor options = group 0, overrides for group 1)
CASES = [
    ("SGD", dict(lr=0.1), dict(lr=0.03)),
    ("SGD", dict(lr=0.05, momentum=0.9), dict(momentum=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3), dict(dampening=0.7)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True), dict(lr=0.02)),
    ("SGD", dict(lr=0.1, weight_decay=0.2), dict(weight_decay=0.0)),
    ("SGD", dict(lr=0.02, momentum=0.8, weight_decay=0.1, maximize=True), dict(nesterov=True)),
    ("SGD", dict(), dict(lr=0.2, momentum=0.9)),  # defaults
    ("Adagrad", dict(), dict(lr=0.5)),
    ("Adagrad", dict(lr=0.3, lr_decay=0.2), dict(lr_decay=0.0)),
    ("Adagrad", dict(lr=0.3, weight_decay=0.1, initial_accumulator_value=0.5), dict(eps=1e-3)),
    ("Adagrad", dict(lr=0.1, maximize=True), dict(initial_accumulator_value=1.0)),
    ("RMSprop", dict(), dict(lr=0.05)),
    ("RMSprop", dict(lr=0.02, centered=True), dict(alpha=0.8)),
    ("RMSprop", dict(lr=0.01, momentum=0.9), dict(centered=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.1, momentum=0.5, centered=True), dict(eps=1e-3)),
    ("RMSprop", dict(lr=0.01, maximize=True), dict(momentum=0.3)),
    ("Adadelta", dict(), dict(lr=0.5)),
    ("Adadelta", dict(rho=0.5, eps=1e-3), dict(rho=0.95)),
    ("Adadelta", dict(lr=2.0, weight_decay=0.1), dict(maximize=True)),
    ("Adam", dict(), dict(lr=0.05)),
    ("Adam", dict(lr=0.3, betas=(0.9, 0.5), amsgrad=True), dict(amsgrad=False)),
    ("Adam", dict(lr=0.05, weight_decay=0.1), dict(betas=(0.5, 0.9))),
    ("Adam", dict(lr=0.05, eps=1e-2, maximize=True), dict(amsgrad=True)),
    ("AdamW", dict(), dict(lr=0.05)),
    ("AdamW", dict(lr=0.1, weight_decay=0.5), dict(weight_decay=0.0)),
    ("AdamW", dict(lr=0.3, betas=(0.9, 0.5), amsgrad=True, weight_decay=0.1), dict(maximize=True)),
]


def _problem(seed=1):
    """Initial values and loss coefficients (a > 0, b, c) for every parameter, in float64."""
    rng = np.random.default_rng(seed)
    init = {k: rng.normal(size=s) for k, s in SHAPES.items()}
    coef = {k: (rng.uniform(0.5, 2.0, size=s), rng.normal(size=s), rng.normal(size=s)) for k, s in SHAPES.items()}
    return init, coef


def _grad_np(p, coef):
    a, b, c = coef
    return a * p + b + c * np.cos(p)


def _loss(params, coef, dtype, step):
    total = None
    for k, p in params.items():
        if k == "frozen" or (k == "late" and step < LATE_START):
            continue
        a, b, c = (gdcore.tensor(x, dtype=dtype) for x in coef[k])
        term = (a * p * p * 0.5 + b * p + c * gdcore.sin(p)).sum()
        total = term if total is None else total + term
    return total


def _tolerances(dtype):
    return (dict(rtol=1e-10, atol=1e-12) if dtype == gdcore.float64 else dict(rtol=3e-5, atol=3e-6))


@pytest.mark.parametrize("dtype", [gdcore.float32, gdcore.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,opts0,opts1", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_update_matches_reference(name, opts0, opts1, dtype):
    init, coef = _problem()
    params = {k: gdcore.tensor(v, dtype=dtype, requires_grad=True) for k, v in init.items()}
    group0 = ["matrix", "scalar", "frozen"]
    group1 = ["vector", "late"]
    opt = getattr(optim, name)([{"params": [params[k] for k in group0]},
                                {"params": [params[k] for k in group1], **opts1}], **opts0)
    options = {k: {**DEFAULTS[name], **opts0, **(opts1 if k in group1 else {})} for k in SHAPES}

    # The reference starts from the values the tensors actually hold (float32 rounding included).
    ref = {k: np.array(params[k].detach().numpy(), dtype=np.float64) for k in SHAPES}
    ref_state = {k: {} for k in SHAPES}
    ref_steps = {k: 0 for k in SHAPES}
    for step in range(1, STEPS + 1):
        opt.zero_grad()
        _loss(params, coef, dtype, step).backward()
        opt.step()
        for k in SHAPES:
            if k == "frozen" or (k == "late" and step < LATE_START):
                continue
            ref_steps[k] += 1
            ref[k] = REFS[name](ref[k], _grad_np(ref[k], coef[k]), ref_state[k], ref_steps[k], options[k])
        for k in SHAPES:
            np.testing.assert_allclose(params[k].detach().numpy(), ref[k], **_tolerances(dtype),
                                       err_msg=f"{name} parameter '{k}' after step {step}")
        if step < LATE_START:
            assert not opt.state.get(params["late"]), "a parameter without a gradient must get no state"
    assert np.array_equal(params["frozen"].detach().numpy(), np.asarray(init["frozen"], dtype=params["frozen"].detach().numpy().dtype))
    assert not opt.state.get(params["frozen"])
    for k in ("matrix", "vector", "late"):
        assert not np.allclose(params[k].detach().numpy(), init[k], atol=1e-4), f"parameter '{k}' did not move"


def test_amsgrad_case_exercises_the_maximum():
    """The amsgrad case above must be one where the running maximum changes the result."""
    init, coef = _problem()
    o = {**DEFAULTS["Adam"], "lr": 0.3, "betas": (0.9, 0.5)}
    p_plain, p_ams, s_plain, s_ams = init["vector"], init["vector"], {}, {}
    for t in range(1, STEPS + 1):
        p_plain = adam_ref(p_plain, _grad_np(p_plain, coef["vector"]), s_plain, t, o)
        p_ams = adam_ref(p_ams, _grad_np(p_ams, coef["vector"]), s_ams, t, {**o, "amsgrad": True})
    assert np.abs(p_plain - p_ams).max() > 1e-3


def test_sgd_state_holds_the_momentum_buffer():
    p = gdcore.tensor([1.0, -2.0], dtype=gdcore.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    grads = [np.array([0.5, 1.0]), np.array([-1.0, 2.0]), np.array([3.0, 0.25])]
    buf = None
    for g in grads:
        p.grad = gdcore.tensor(g, dtype=gdcore.float64)
        opt.step()
        buf = g.copy() if buf is None else 0.9 * buf + 0.5 * g
        np.testing.assert_allclose(opt.state[p]["momentum_buffer"].numpy(), buf, rtol=1e-15)


def test_adam_state_names_and_step_counts():
    p = gdcore.zeros(3, requires_grad=True)
    q = gdcore.zeros(2, requires_grad=True)
    opt = optim.Adam([p, q], amsgrad=True)
    for step in range(3):
        p.grad = gdcore.ones(3)
        q.grad = gdcore.ones(2) if step > 0 else None
        opt.step()
    assert set(opt.state[p]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert opt.state[p]["step"] == 3 and opt.state[q]["step"] == 2


def test_user_assigned_strided_gradient_is_used_correctly():
    p = gdcore.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=gdcore.float64, requires_grad=True)
    g = gdcore.tensor([[1.0, 10.0], [100.0, 1000.0]], dtype=gdcore.float64).t()
    assert not g.is_contiguous()
    p.grad = g
    optim.SGD([p], lr=0.5).step()
    np.testing.assert_array_equal(p.detach().numpy(), np.array([[1.0, 2.0], [3.0, 4.0]]) - 0.5 * g.numpy())


def test_large_parameter_matches_numpy():
    """One long vector (many SIMD blocks plus a remainder) in float32, against numpy in float64."""
    rng = np.random.default_rng(3)
    x0 = rng.normal(size=10_007).astype(np.float32)
    grads = [rng.normal(size=10_007).astype(np.float32) for _ in range(3)]
    p = gdcore.tensor(x0, requires_grad=True)
    opt = optim.Adam([p], lr=0.01)
    ref, state = x0.astype(np.float64), {}
    for t, g in enumerate(grads, start=1):
        p.grad = gdcore.tensor(g)
        opt.step()
        ref = adam_ref(ref, g.astype(np.float64), state, t, DEFAULTS["Adam"] | {"lr": 0.01})
    np.testing.assert_allclose(p.detach().numpy(), ref, rtol=1e-5, atol=1e-6)
