"""nn.ModuleDict, nn.ParameterList and nn.ParameterDict (nn/containers.py, nn/parameter_containers.py):
registration, state_dict keys as torch names them, round trips, and an optimizer step through them."""
import numpy as np
import pytest

import gdcore
from gdcore import nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleDict({"a": nn.Linear(3, 2), "b": nn.Linear(3, 1)})
        self.scales = nn.ParameterList([nn.Parameter(gdcore.ones(2)), gdcore.ones(1)])
        self.extra = nn.ParameterDict({"shift": gdcore.zeros(1)})

    def forward(self, x):
        return (self.heads["a"](x) * self.scales[0]).sum() + (self.heads["b"](x) * self.scales[1]).sum() \
            + self.extra["shift"].sum()


def test_state_dict_keys_and_parameters():
    m = Model()
    assert list(m.state_dict()) == ["heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias", "scales.0",
                                    "scales.1", "extra.shift"]
    assert len(list(m.parameters())) == 7
    state = {k: v.clone() + 1 for k, v in m.state_dict().items()}
    fresh = Model()
    fresh.load_state_dict(state)
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), state[k].numpy())


def test_gradients_reach_the_containers():
    m = Model()
    opt = gdcore.optim.SGD(m.parameters(), lr=0.1)
    x = gdcore.ones(4, 3)
    m(x).backward()
    np.testing.assert_allclose(m.extra["shift"].grad.numpy(), [1.0])
    expected_scale0 = (m.heads["a"](x)).sum(0).detach().numpy()
    np.testing.assert_allclose(m.scales[0].grad.numpy(), expected_scale0, rtol=1e-6)
    opt.step()
    np.testing.assert_allclose(m.extra["shift"].detach().numpy(), [-0.1], rtol=1e-6)


def test_module_dict_as_a_dict():
    d = nn.ModuleDict([("x", nn.ReLU()), ("y", nn.Tanh())])
    assert list(d) == ["x", "y"] and list(d.keys()) == ["x", "y"] and len(d) == 2 and "x" in d
    d["z"] = nn.Sigmoid()
    assert [type(v).__name__ for v in d.values()] == ["ReLU", "Tanh", "Sigmoid"]
    assert isinstance(d.pop("x"), nn.ReLU) and list(d) == ["y", "z"]
    del d["y"]
    d.update({"w": nn.Identity()})
    assert [k for k, _ in d.items()] == ["z", "w"]
    d.clear()
    assert len(d) == 0
    assert repr(nn.ModuleDict({"act": nn.ReLU()})) == "ModuleDict(\n  (act): ReLU()\n)"


def test_parameter_list_and_dict():
    pl = nn.ParameterList([gdcore.zeros(2, 3)])
    assert isinstance(pl[0], nn.Parameter) and pl[0].requires_grad and pl[-1] is pl[0]
    pl.append(gdcore.ones(2))
    pl += [gdcore.ones(4, dtype=gdcore.float64)]
    assert len(pl) == 3 and [tuple(p.shape) for p in pl] == [(2, 3), (2,), (4,)]
    assert isinstance(pl[1:], nn.ParameterList) and len(pl[1:]) == 2
    pl[0] = gdcore.ones(1)
    assert tuple(pl[0].shape) == (1,)
    assert repr(nn.ParameterList([gdcore.zeros(2, 3)])) == \
        "ParameterList(\n    (0): Parameter containing: [gdcore.float32 of size 2x3]\n)"
    pd = nn.ParameterDict({"a": gdcore.zeros(2)})
    pd["b"] = nn.Parameter(gdcore.ones(1))
    assert list(pd) == ["a", "b"] and "b" in pd and pd.get("c") is None
    assert tuple(pd.pop("a").shape) == (2,) and list(pd.keys()) == ["b"]
    assert [k for k, _ in pd.items()] == ["b"] and len(list(pd.values())) == 1
    t = gdcore.zeros(3)
    pd["shared"] = t  # a plain tensor becomes a Parameter sharing its memory (torch 2.x)
    assert isinstance(pd["shared"], nn.Parameter)
    t.add_(1.0)
    np.testing.assert_array_equal(pd["shared"].detach().numpy(), np.ones(3))
    with pytest.raises(KeyError):
        pd["missing"]
