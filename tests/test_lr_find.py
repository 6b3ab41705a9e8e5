"""gdcore.train.lr_find: the exponential sweep and the smoothed loss against a plain-Python recomputation, the
stop on divergence, and the restore: model, gradients, optimizer state and the loader's generator come back bit
for bit, so training after lr_find is identical to training without it."""
import math

import numpy as np
import pytest

import gdcore
from gdcore import data, nn, optim
from gdcore.train import fit, lr_find


def setup(opt_kind="momentum", seed=0):
    g = gdcore.Generator(11)
    X = gdcore.randn(96, 3, generator=g)
    y = (X @ gdcore.tensor([[1.0], [2.0], [-1.0]])).tanh() + 0.05 * gdcore.randn(96, 1, generator=g)
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=16, shuffle=True, generator=gdcore.Generator(3))
    gdcore.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    opt = (optim.SGD(model.parameters(), lr=0.05, momentum=0.9) if opt_kind == "momentum"
           else optim.Adam(model.parameters(), lr=0.01))
    return model, opt, loader


def snapshot(model, opt, loader):
    params = [p.detach().numpy().copy() for p in model.parameters()]
    grads = [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()]
    state = opt.state_dict()
    tensors = {(i, k): v.numpy().copy() for i, s in state["state"].items() for k, v in s.items()
               if isinstance(v, gdcore.Tensor)}
    others = {(i, k): v for i, s in state["state"].items() for k, v in s.items() if not isinstance(v, gdcore.Tensor)}
    return params, grads, tensors, others, state["param_groups"], loader.generator.get_state()


def same(a, b):
    params_a, grads_a, tensors_a, others_a, groups_a, rng_a = a
    params_b, grads_b, tensors_b, others_b, groups_b, rng_b = b
    assert all(x.tobytes() == y.tobytes() for x, y in zip(params_a, params_b))
    assert all((x is None and y is None) or x.tobytes() == y.tobytes() for x, y in zip(grads_a, grads_b))
    assert tensors_a.keys() == tensors_b.keys()
    assert all(tensors_a[k].tobytes() == tensors_b[k].tobytes() for k in tensors_a)
    assert others_a == others_b and groups_a == groups_b and rng_a.tolist() == rng_b.tolist()


@pytest.mark.parametrize("opt_kind", ["momentum", "adam"])
def test_restores_model_and_optimizer_bit_for_bit(opt_kind):
    model, opt, loader = setup(opt_kind)
    fit(model, nn.MSELoss(), opt, loader, 1, progress=False)        # optimizer state exists (momentum, Adam moments)
    before = snapshot(model, opt, loader)
    result = lr_find(model, nn.MSELoss(), opt, loader, start_lr=1e-5, end_lr=100.0, num_steps=40)
    assert len(result.lrs) > 3
    same(before, snapshot(model, opt, loader))
    # and training goes on exactly as in a twin that never ran lr_find
    twin_model, twin_opt, twin_loader = setup(opt_kind)
    fit(twin_model, nn.MSELoss(), twin_opt, twin_loader, 1, progress=False)
    after = fit(model, nn.MSELoss(), opt, loader, 2, progress=False).train_losses
    assert after == fit(twin_model, nn.MSELoss(), twin_opt, twin_loader, 2, progress=False).train_losses


def test_restores_gradients_and_a_fresh_optimizer():
    model, opt, loader = setup()
    X, y = next(iter(loader))
    nn.MSELoss()(model(X), y).backward()                             # a pending gradient the caller still holds
    before = snapshot(model, opt, loader)
    lr_find(model, nn.MSELoss(), opt, loader, num_steps=10)
    same(before, snapshot(model, opt, loader))
    assert opt.state_dict()["state"] == {}


def test_sweep_and_smoothing_match_a_plain_recomputation():
    model, opt, loader = setup()
    result = lr_find(model, nn.MSELoss(), opt, loader, start_lr=1e-4, end_lr=1e-1, num_steps=30, smooth=0.9)
    assert not result.diverged and len(result.lrs) == 30
    np.testing.assert_allclose(result.lrs, np.geomspace(1e-4, 1e-1, 30), rtol=1e-12)
    average, expected = 0.0, []
    for i, loss in enumerate(result.losses):
        average = 0.9 * average + 0.1 * loss
        expected.append(average / (1 - 0.9 ** (i + 1)))
    np.testing.assert_allclose(result.smoothed, expected, rtol=1e-12)
    slope = np.gradient(np.array(expected), np.log(result.lrs))
    assert result.suggestion == result.lrs[3 + int(np.argmin(slope[3:29]))]
    assert result.lr_min == result.lrs[int(np.argmin(expected))]


def test_stops_when_the_loss_blows_up():
    model, opt, loader = setup()
    result = lr_find(model, nn.MSELoss(), opt, loader, start_lr=1e-3, end_lr=1e4, num_steps=100)
    assert result.diverged and len(result.lrs) < 100
    last = result.smoothed[-1]
    assert last > 4 * min(result.smoothed) or not math.isfinite(result.losses[-1])
    assert result.suggestion < result.lrs[-1] and "stopped when the loss diverged" in str(result)
