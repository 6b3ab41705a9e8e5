"""nn.Module and nn.Parameter bookkeeping: registration by attribute assignment, traversal,
train/eval, zero_grad, state_dict round trips and load_state_dict's error reports, dtype
conversion, repr; and nn.Sequential / nn.ModuleList as containers."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import gdcore
from gdcore import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(gdcore.ones(3))
        self.register_buffer("running", gdcore.zeros(3))
        self.register_buffer("scratch", gdcore.zeros(2), persistent=False)
        self.note = "plain attribute"

    def forward(self, x):
        return x * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.block = Block()
        self.w = nn.Parameter(gdcore.randn(2, 2))

    def forward(self, x):
        return self.fc(self.block(x)) @ self.w


# ---- Parameter ---------------------------------------------------------------------------------

def test_parameter_is_a_tensor_that_aliases_its_data_and_requires_grad():
    data = gdcore.zeros(2, 3)
    p = nn.Parameter(data)
    assert isinstance(p, gdcore.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and tuple(p.shape) == (2, 3)
    data.fill_(7.0)  # shared memory
    assert p.sum().item() == 42.0
    assert not nn.Parameter(data, requires_grad=False).requires_grad
    assert type(p * 2) is gdcore.Tensor
    assert p.requires_grad_(True) is p  # the same Python object comes back from C++


def test_parameter_repr_and_errors():
    p = nn.Parameter(gdcore.tensor([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert str(p) == repr(p)
    with pytest.raises(TypeError, match="must be a gdcore.Tensor"):
        nn.Parameter([1.0, 2.0])
    with pytest.raises(TypeError, match="only float tensors"):
        nn.Parameter(gdcore.tensor([1, 2]))
    assert tuple(nn.Parameter().shape) == (0,)


def test_parameter_from_non_leaf_drops_history():
    x = gdcore.randn(3, requires_grad=True)
    p = nn.Parameter(x * 2)
    assert p.is_leaf and p.grad_fn is None
    (p * p).sum().backward()
    assert x.grad is None and p.grad is not None


# ---- registration and traversal -----------------------------------------------------------------

def test_registration_by_attribute_assignment():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["w", "fc.weight", "fc.bias", "block.scale"]
    assert [n for n, _ in net.named_children()] == ["fc", "block"]
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Linear", "Block"]
    assert [n for n, _ in net.named_modules()] == ["", "fc", "block"]
    assert [n for n, _ in net.named_buffers()] == ["block.running", "block.scratch"]
    assert len(list(net.parameters(recurse=False))) == 1
    assert net.block.note == "plain attribute" and "note" not in net.block._parameters
    assert net.get_submodule("block") is net.block
    # Reassigning a registered parameter to None keeps the slot; a plain tensor there is refused.
    net.w = None
    assert [n for n, _ in net.named_parameters()] == ["fc.weight", "fc.bias", "block.scale"]
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'w'"):
        net.w = gdcore.randn(2, 2)
    del net.fc
    assert [n for n, _ in net.named_children()] == ["block"]
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'missing'"):
        net.missing


def test_shared_parameter_is_listed_once():
    a = nn.Linear(2, 2)
    seq = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.children())) == 2  # the same child twice is one child


def test_assignment_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(gdcore.zeros(1))

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first"):
        Broken()


def test_register_buffer_and_parameter_validation():
    m = nn.Module()
    with pytest.raises(TypeError, match="gdcore.nn.Parameter or None required"):
        m.register_parameter("w", gdcore.zeros(1))
    with pytest.raises(KeyError, match=r"contain \"\.\""):
        m.register_buffer("a.b", gdcore.zeros(1))
    with pytest.raises(TypeError, match="gdcore.Tensor or None required"):
        m.register_buffer("b", [1.0])
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("training", gdcore.zeros(1))
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        m(gdcore.zeros(1))


def test_train_eval_and_apply():
    net = Net()
    assert net.training and net.block.training
    assert net.eval() is net
    assert not net.training and not net.fc.training and not net.block.training
    net.train()
    assert all(m.training for m in net.modules())
    visited = []
    assert net.apply(lambda m: visited.append(type(m).__name__)) is net
    assert visited == ["Linear", "Block", "Net"]  # children first, then self


def test_zero_grad_set_to_none_and_to_zero():
    net = Net()
    net(gdcore.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net(gdcore.randn(4, 3)).sum().backward()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_freezes_parameters():
    net = Net()
    net.fc.requires_grad_(False)
    net(gdcore.randn(2, 3)).sum().backward()
    assert net.fc.weight.grad is None and net.w.grad is not None


# ---- state_dict ----------------------------------------------------------------------------

def test_state_dict_keys_values_and_round_trip():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["w", "fc.weight", "fc.bias", "block.scale", "block.running"]  # no non-persistent buffer
    assert all(type(v) is gdcore.Tensor and not v.requires_grad for v in sd.values())
    other = Net()
    assert not np.allclose(other.fc.weight.detach().numpy(), net.fc.weight.detach().numpy())
    result = other.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for name, value in other.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), sd[name].numpy())
    x = gdcore.randn(5, 3)
    np.testing.assert_array_equal(other(x).detach().numpy(), net(x).detach().numpy())
    # Loading copies: the two models no longer share memory.
    with gdcore.no_grad():
        net.w.fill_(0.0)
    assert other.w.abs().sum().item() > 0
    # state_dict values alias the live parameters (as torch's do).
    sd["w"].fill_(3.0)
    assert net.w.sum().item() == 12.0


def test_load_state_dict_accepts_numpy_arrays_and_keeps_parameter_identity():
    lin = nn.Linear(2, 1)
    weight = lin.weight
    lin.load_state_dict({"weight": np.array([[1.0, 2.0]], dtype=np.float32), "bias": np.array([0.5], dtype=np.float32)})
    assert lin.weight is weight
    np.testing.assert_array_equal(lin.weight.detach().numpy(), [[1.0, 2.0]])
    assert lin.weight.requires_grad


def test_load_state_dict_reports_every_problem_and_changes_nothing():
    net = Net()
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    bad = dict(Net().state_dict())
    del bad["fc.bias"]
    del bad["block.running"]
    bad["extra.weight"] = gdcore.zeros(1)
    bad["fc.weight"] = gdcore.zeros(3, 2)  # transposed shape
    bad["w"] = "not a tensor"
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(bad)
    message = str(info.value)
    assert message.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "fc.bias", "block.running".' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in message
    assert ("size mismatch for fc.weight: copying a param with shape (3, 2) from checkpoint, "
            "the shape in current model is (2, 3).") in message
    assert 'While copying the parameter named "w"' in message and "str" in message
    for k, v in net.state_dict().items():  # nothing was copied
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_load_state_dict_non_strict_returns_missing_and_unexpected():
    net = Net()
    partial = {"fc.weight": gdcore.ones(2, 3), "other": gdcore.zeros(1)}
    result = net.load_state_dict(partial, strict=False)
    assert result.missing_keys == ["w", "fc.bias", "block.scale", "block.running"]
    assert result.unexpected_keys == ["other"]
    np.testing.assert_array_equal(net.fc.weight.detach().numpy(), np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="size mismatch for fc.weight"):  # shapes are checked even when not strict
        net.load_state_dict({"fc.weight": gdcore.ones(3, 3)}, strict=False)
    with pytest.raises(TypeError, match="dict-like"):
        net.load_state_dict([("w", gdcore.zeros(2, 2))])


# ---- dtype, copy, repr ----------------------------------------------------------------------------

def test_to_double_and_float_keep_parameter_objects():
    net = Net()
    params = list(net.parameters())
    net(gdcore.randn(2, 3)).sum().backward()
    assert net.double() is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.dtype == gdcore.float64 and p.grad.dtype == gdcore.float64 for p in net.parameters())
    assert net.block.running.dtype == gdcore.float64
    assert net(gdcore.randn(2, 3, dtype=gdcore.float64)).dtype == gdcore.float64
    net.to(gdcore.float32)
    assert all(p.dtype == gdcore.float32 for p in net.parameters())
    net.to("cpu")
    with pytest.raises(TypeError, match="floating point dtypes"):
        net.to(gdcore.int64)
    with pytest.raises(RuntimeError, match="CPU only"):
        net.to("cuda")


def test_deepcopy_gives_independent_parameters():
    lin = nn.Linear(3, 2)
    clone = copy.deepcopy(lin)
    assert isinstance(clone.weight, nn.Parameter) and clone.weight.requires_grad
    np.testing.assert_array_equal(clone.weight.detach().numpy(), lin.weight.detach().numpy())
    with gdcore.no_grad():
        clone.weight.fill_(0.0)
    assert lin.weight.abs().sum().item() > 0


def test_repr_nests_like_torch():
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 1), nn.Sigmoid()))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=1, bias=True)\n"
        "    (1): Sigmoid()\n"
        "  )\n"
        ")")


# ---- containers --------------------------------------------------------------------------------

def test_sequential_indexing_len_iteration_and_append():
    layers = [nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[2]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    x = gdcore.randn(5, 3)
    expected = layers[2](gdcore.tanh(layers[0](x)))
    np.testing.assert_allclose(seq(x).detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    assert seq.append(nn.Sigmoid()) is seq
    assert len(seq) == 4 and [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]
    del seq[1]
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"] and seq[1] is layers[2]
    with pytest.raises(IndexError, match="index 5 is out of range for Sequential of length 3"):
        seq[5]
    with pytest.raises(TypeError, match="can only hold nn.Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_sequential_with_named_children_and_state_dict_keys():
    seq = nn.Sequential(OrderedDict(hidden=nn.Linear(2, 3), act=nn.ReLU(), out=nn.Linear(3, 1)))
    assert list(seq.state_dict()) == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert seq.hidden is seq[0]


def test_module_list_registers_its_modules():
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    stack = Stack()
    assert len(list(stack.parameters())) == 6
    assert tuple(stack(gdcore.randn(4, 2)).shape) == (4, 2)
