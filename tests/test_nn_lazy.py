"""nn.LazyLinear and UninitializedParameter (gdcore/nn/lazy.py), and the Module API d2l
leans on: apply, named_modules, modules, children, named_children, register_buffer
(persistent flag), extra_repr, requires_grad_. Expected values come from numpy and from
torch's documented rules (default init bounds 1/sqrt(in_features)).
"""
import copy
import math
import pickle

import numpy as np
import pytest

import gdcore
from gdcore import nn, optim
from gdcore.nn.lazy import is_lazy


def _mlp():
    return nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(2))


def test_parameters_are_uninitialized_before_the_first_call():
    layer = nn.LazyLinear(3)
    assert isinstance(layer.weight, nn.UninitializedParameter) and is_lazy(layer.bias)
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.requires_grad
    assert repr(layer.weight) == "<UninitializedParameter>"
    assert repr(layer) == "LazyLinear(in_features=0, out_features=3, bias=True)"
    for ask in (lambda p: p.shape, lambda p: p.size(), lambda p: p.numel(), lambda p: p.dim()):
        with pytest.raises(ValueError, match="uninitialized parameter"):
            ask(layer.weight)
    assert nn.LazyLinear(3, bias=False).bias is None


def test_first_call_infers_in_features_and_becomes_linear():
    layer = nn.LazyLinear(5)
    w, b = layer.weight, layer.bias
    x = gdcore.randn(7, 3)
    y = layer(x)
    assert type(layer) is nn.Linear and layer.in_features == 3 and layer.out_features == 5
    assert layer.weight is w and layer.bias is b  # materialised in place
    assert type(w) is nn.Parameter and tuple(w.shape) == (5, 3) and tuple(b.shape) == (5,)
    bound = 1 / math.sqrt(3)  # torch's default: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias
    assert np.abs(w.detach().numpy()).max() <= bound and np.abs(b.detach().numpy()).max() <= bound
    assert w.detach().numpy().std() > 0
    expected = x.numpy() @ w.detach().numpy().T + b.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    assert repr(layer) == "Linear(in_features=3, out_features=5, bias=True)"


def test_an_optimizer_built_before_the_first_call_updates_the_materialised_parameters():
    net = _mlp()
    opt = optim.SGD(net.parameters(), lr=0.1)
    x, target = gdcore.randn(8, 3), gdcore.randn(8, 2)
    net(x)  # materialise
    before = [p.detach().numpy().copy() for p in net.parameters()]
    loss = ((net(x) - target) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    grads = [p.grad.numpy().copy() for p in net.parameters()]
    opt.step()
    for p, b, g in zip(net.parameters(), before, grads):
        np.testing.assert_allclose(p.detach().numpy(), b - 0.1 * g, rtol=1e-6, atol=1e-7)
    assert [tuple(p.shape) for p in opt.param_groups[0]["params"]] == [(4, 3), (4,), (2, 4), (2,)]


def test_state_dict_round_trip_after_the_first_call_and_into_a_fresh_lazy_model():
    net = _mlp()
    x = gdcore.randn(6, 3)
    y = net(x).detach().numpy()
    sd = net.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    fresh = _mlp()  # never called: shapes come from the checkpoint, as torch's lazy load hook does
    fresh.load_state_dict(sd)
    assert type(fresh[0]) is nn.Linear and fresh[0].in_features == 3 and fresh[2].in_features == 4
    np.testing.assert_array_equal(fresh(x).detach().numpy(), y)
    called = _mlp()
    called(gdcore.zeros(1, 3))
    called.load_state_dict(sd)
    np.testing.assert_array_equal(called(x).detach().numpy(), y)


def test_state_dict_before_the_first_call_holds_the_uninitialized_parameters():
    sd = nn.LazyLinear(2).state_dict()
    assert all(is_lazy(v) for v in sd.values())


def test_lazy_layer_copies_pickles_and_converts_dtype():
    layer = nn.LazyLinear(2)
    assert is_lazy(copy.deepcopy(layer).weight)
    assert is_lazy(pickle.loads(pickle.dumps(layer)).weight)
    layer.to(gdcore.float64)
    layer(gdcore.ones(1, 4, dtype=gdcore.float64))
    assert layer.weight.dtype == gdcore.float64 and tuple(layer.weight.shape) == (2, 4)
    assert nn.LazyLinear(2, dtype=gdcore.float64).weight.dtype == gdcore.float64


def test_lazy_layer_bad_input():
    with pytest.raises(ValueError, match="at least one dimension"):
        nn.LazyLinear(2)(gdcore.tensor(1.0))
    with pytest.raises(ValueError, match="out_features must be an int >= 0"):
        nn.LazyLinear(-1)
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.LazyLinear(2, device="cuda")


# ---- the Module API d2l uses -----------------------------------------------------------------

class _Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
        self.head = nn.Linear(3, 1)
        self.register_buffer("running", gdcore.zeros(3))
        self.register_buffer("scratch", gdcore.ones(2), persistent=False)

    def forward(self, x):
        return self.head(self.body(x))

    def extra_repr(self):
        return "scale=2"


def test_traversal_names_and_order():
    block = _Block()
    assert [n for n, _ in block.named_modules()] == ["", "body", "body.0", "body.1", "head"]
    assert [type(m).__name__ for m in block.modules()] == ["_Block", "Sequential", "Linear", "ReLU", "Linear"]
    assert [n for n, _ in block.named_children()] == ["body", "head"]
    assert [type(m).__name__ for m in block.children()] == ["Sequential", "Linear"]


def test_apply_visits_children_first_then_self():
    seen = []
    block = _Block()
    assert block.apply(lambda m: seen.append(type(m).__name__)) is block
    assert seen == ["Linear", "ReLU", "Sequential", "Linear", "_Block"]

    def init_weights(m):  # d2l's habit
        if type(m) is nn.Linear:
            nn.init.constant_(m.weight, 0.5)
            nn.init.zeros_(m.bias)

    block.apply(init_weights)
    np.testing.assert_array_equal(block.head.weight.detach().numpy(), np.full((1, 3), 0.5))


def test_non_persistent_buffers_stay_out_of_the_state_dict():
    block = _Block()
    assert "running" in block.state_dict() and "scratch" not in block.state_dict()
    assert {n for n, _ in block.named_buffers()} == {"running", "scratch"}


def test_extra_repr_goes_into_the_repr():
    text = repr(_Block())
    assert text.startswith("_Block(\n  scale=2\n  (body): Sequential(")


def test_requires_grad_freezes_and_unfreezes():
    block = _Block()
    assert block.body.requires_grad_(False) is block.body
    assert [p.requires_grad for p in block.parameters()] == [False, False, True, True]
    block.requires_grad_()
    assert all(p.requires_grad for p in block.parameters())
