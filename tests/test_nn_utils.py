"""gdcore.nn.utils: clip_grad_norm_, clip_grad_value_, parameters_to_vector and
vector_to_parameters against numpy computations of the same quantities."""
import math

import numpy as np
import pytest

import gdcore
from gdcore import nn


def _params_with_grads(rng):
    ps = []
    for shape in ((3, 2), (4,), (1, 1)):
        p = gdcore.tensor(rng.normal(size=shape), dtype=gdcore.float64, requires_grad=True)
        p.grad = gdcore.tensor(rng.normal(size=shape) * 3, dtype=gdcore.float64)
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm(norm_type, max_norm):
    rng = np.random.default_rng(0)
    ps = _params_with_grads(rng)
    flat = np.concatenate([p.grad.numpy().reshape(-1) for p in ps])
    before = [p.grad.numpy().copy() for p in ps]
    p_ = math.inf if norm_type == "inf" else norm_type
    want = np.abs(flat).max() if p_ == math.inf else (np.abs(flat) ** p_).sum() ** (1 / p_)
    total = nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    assert total.item() == pytest.approx(want, rel=1e-12)
    coef = min(1.0, max_norm / (want + 1e-6))
    for p, b in zip(ps, before):
        np.testing.assert_allclose(p.grad.numpy(), b * coef, rtol=1e-12)
    if max_norm < want:
        after = np.concatenate([p.grad.numpy().reshape(-1) for p in ps])
        norm_after = np.abs(after).max() if p_ == math.inf else (np.abs(after) ** p_).sum() ** (1 / p_)
        assert norm_after == pytest.approx(max_norm, rel=1e-5)


def test_clip_grad_norm_single_tensor_skips_missing_grads_and_nonfinite():
    p = gdcore.tensor([3.0, 4.0], requires_grad=True)
    q = gdcore.tensor([1.0], requires_grad=True)  # no grad: skipped, as torch
    p.grad = gdcore.tensor([3.0, 4.0])
    assert nn.utils.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    assert nn.utils.clip_grad_norm_([q], 1.0).item() == 0.0
    p.grad = gdcore.tensor([math.nan, 1.0])
    assert math.isnan(nn.utils.clip_grad_norm_([p], 1.0).item())  # scaled by the non-finite norm, as torch


def test_clip_grad_value():
    p = gdcore.tensor([0.0, 0.0, 0.0], requires_grad=True)
    p.grad = gdcore.tensor([-3.0, 0.2, 5.0])
    assert nn.utils.clip_grad_value_([p], 1.0) is None
    assert p.grad.tolist() == pytest.approx([-1.0, 0.2, 1.0])


def test_parameters_to_vector_and_back():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = nn.utils.parameters_to_vector(model.parameters())
    want = np.concatenate([p.detach().numpy().reshape(-1) for p in model.parameters()])
    np.testing.assert_array_equal(vec.detach().numpy(), want)
    new = gdcore.arange(0, vec.numel(), dtype=gdcore.float32)
    nn.utils.vector_to_parameters(new, model.parameters())
    np.testing.assert_array_equal(nn.utils.parameters_to_vector(model.parameters()).detach().numpy(), new.numpy())
    assert model[0].weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    # parameters_to_vector is differentiable, as torch's
    (nn.utils.parameters_to_vector(model.parameters()) ** 2).sum().backward()
    np.testing.assert_allclose(model[0].weight.grad.numpy(), 2 * model[0].weight.detach().numpy())
