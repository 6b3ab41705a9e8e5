"""Regression tests for gaps found by porting torch-style code with ``import gdcore as torch``.

Each test is a snippet a PyTorch user would write unchanged: copying tensors and models
(copy.copy / copy.deepcopy), a NaN bound in clamp, device moves (``.to('cpu')``, ``.cpu()``)
and CosineAnnealingLR. Expected values come from numpy or closed forms, never from gdcore.
"""
import copy
import math

import numpy as np
import pytest

import gdcore as torch
from gdcore import nn, optim


# ---- copy.copy / copy.deepcopy of plain tensors ----

def test_deepcopy_of_a_leaf_copies_data_requires_grad_and_grad():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    a.grad = torch.tensor([[0.5, 0.5], [0.5, 0.5]])
    b = copy.deepcopy(a)
    assert b.requires_grad and b.is_leaf and b.grad_fn is None
    np.testing.assert_array_equal(b.detach().numpy(), [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(b.grad.numpy(), np.full((2, 2), 0.5))
    with torch.no_grad():
        b += 10.0
        b.grad += 1.0
    np.testing.assert_array_equal(a.detach().numpy(), [[1.0, 2.0], [3.0, 4.0]])  # independent data
    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 2), 0.5))  # independent grad


def test_deepcopy_keeps_dtype_and_no_grad_flag_and_memo_identity():
    a = torch.arange(6).reshape(2, 3)
    pair = copy.deepcopy([a, a])
    assert pair[0] is pair[1]  # the memo keeps shared tensors shared
    assert pair[0].dtype == torch.int64 and not pair[0].requires_grad
    np.testing.assert_array_equal(pair[0].numpy(), np.arange(6).reshape(2, 3))


def test_deepcopy_of_a_non_leaf_is_refused_with_advice():
    x = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="only leaf tensors.*detach"):
        copy.deepcopy(x * 2)


def test_shallow_copy_shares_data_like_torch():
    a = torch.zeros(3, requires_grad=True)
    c = copy.copy(a)
    assert c.requires_grad and c.is_leaf
    with torch.no_grad():
        a += 1.0
    np.testing.assert_array_equal(c.detach().numpy(), np.ones(3))


def test_deepcopy_of_a_module_with_a_buffer_gives_independent_state():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)
            self.register_buffer("scale", torch.full((1,), 2.0))

        def forward(self, x):
            return self.fc(x) * self.scale

    net = Scaled()
    with torch.no_grad():
        net.fc.weight.copy_(torch.tensor([[1.0, -1.0]]))
        net.fc.bias.fill_(0.5)
    twin = copy.deepcopy(net)
    with torch.no_grad():
        net.scale.fill_(3.0)
        net.fc.bias.fill_(0.0)
    x = np.array([[1.0, 2.0], [3.0, 1.0]], dtype=np.float32)
    expected = (x @ np.array([1.0, -1.0]) + 0.5) * 2.0  # the twin kept the old weights and buffer
    np.testing.assert_allclose(twin(torch.tensor(x)).detach().numpy().ravel(), expected, rtol=1e-6)


def test_deepcopy_of_a_state_dict_is_a_snapshot_for_best_model_checkpoints():
    model = nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.25, -0.5]]))
        model.bias.fill_(1.0)
    best = copy.deepcopy(model.state_dict())
    with torch.no_grad():  # training goes on and moves the weights in place
        model.weight.fill_(9.0)
        model.bias.fill_(9.0)
    np.testing.assert_array_equal(best["weight"].numpy(), [[0.25, -0.5]])
    model.load_state_dict(best)
    np.testing.assert_array_equal(model(torch.tensor([[2.0, 2.0]])).detach().numpy(), [[0.25 * 2 - 0.5 * 2 + 1.0]])


# ---- clamp with a NaN bound ----

@pytest.mark.parametrize("bounds", [(math.nan, 1.0), (-1.0, math.nan), (math.nan, None), (None, math.nan)])
def test_clamp_with_a_nan_bound_gives_nan_everywhere(bounds):
    lo, hi = bounds
    x = torch.tensor([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(np.isnan(torch.clamp(x, lo, hi).numpy()), [True, True, True])
    np.testing.assert_array_equal(np.isnan(x.double().clamp(min=lo, max=hi).numpy()), [True, True, True])


def test_clamp_keeps_nan_inputs_and_clamps_the_rest():
    x = torch.tensor([math.nan, -5.0, 0.25, 5.0])
    out = torch.clamp(x, -1.0, 1.0).numpy()
    np.testing.assert_array_equal(out, np.clip(np.array([np.nan, -5.0, 0.25, 5.0], dtype=np.float32), -1, 1))


# ---- device moves on a CPU-only library ----

def test_to_cpu_and_cpu_are_no_ops_and_to_still_converts_dtype():
    x = torch.tensor([1.5, 2.5])
    assert x.cpu() is x or np.shares_memory(x.cpu().numpy(), x.numpy())
    np.testing.assert_array_equal(x.to("cpu").numpy(), [1.5, 2.5])
    assert x.to("cpu", torch.float64).dtype == torch.float64
    assert x.to(device="cpu", dtype=torch.float64).dtype == torch.float64
    assert x.to(torch.int64).dtype == torch.int64
    assert x.to(torch.zeros(1, dtype=torch.float64)).dtype == torch.float64  # to(other): other's dtype


def test_to_an_unavailable_device_says_cpu_only():
    with pytest.raises(RuntimeError, match="CPU only"):
        torch.ones(2).to("cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        torch.ones(2).to(device="cuda:0")


# ---- CosineAnnealingLR ----

def test_cosine_annealing_follows_the_closed_form():
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.5)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.01)
    seen = []
    for _ in range(9):
        opt.step()
        sched.step()
        seen.append(opt.param_groups[0]["lr"])
    expected = [0.01 + (0.5 - 0.01) * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(1, 10)]
    np.testing.assert_allclose(seen, expected, rtol=1e-12)
    assert seen[3] == pytest.approx(0.01) and seen[7] == pytest.approx(0.5)  # minimum at T_max, back at 2*T_max
    assert sched.get_last_lr() == [seen[-1]]


def test_cosine_annealing_rejects_bad_t_max():
    opt = optim.SGD(nn.Linear(1, 1).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="T_max must be an integer >= 1, got 0"):
        optim.lr_scheduler.CosineAnnealingLR(opt, T_max=0)


def test_torch_import_paths_port():
    """`torch.utils.data` and `torch.data`-style access work after a plain `import gdcore`."""
    import gdcore
    from gdcore.utils.data import DataLoader, TensorDataset

    assert gdcore.data.DataLoader is DataLoader
    ds = TensorDataset(gdcore.arange(6).reshape(3, 2), gdcore.arange(3))
    batches = list(DataLoader(ds, batch_size=2))
    assert [b[1].tolist() for b in batches] == [[0, 1], [2]]
