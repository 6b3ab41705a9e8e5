"""Tensor.register_hook (gdcore/grad_hooks.hpp, engine.cpp): the hook sees the tensor's complete
gradient and may replace it, on leaves (once per backward, on the summed gradient, before .grad)
and on non-leaves (before the gradient flows on); remove() unregisters it; bad hooks raise.
Expected gradients are closed forms."""
import numpy as np
import pytest

import gdcore


def leaf(values):
    return gdcore.tensor(values, dtype=gdcore.float64, requires_grad=True)


def test_non_leaf_hook_sees_and_replaces_the_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    seen = []

    def hook(g):
        seen.append(g.numpy().copy())
        return g * 3
    y.register_hook(hook)
    (y ** 2).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * 2 * np.array([1.0, 2.0, 3.0]))  # d(y^2)/dy = 2y
    np.testing.assert_allclose(x.grad.numpy(), 3 * 2 * 2 * 2 * np.array([1.0, 2.0, 3.0]))


def test_leaf_hook_runs_once_on_the_summed_gradient():
    x = leaf([1.0, -1.0])
    calls = []
    x.register_hook(lambda g: calls.append(g.numpy().copy()))
    (x * 3 + x * x).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], 3 + 2 * np.array([1.0, -1.0]))
    np.testing.assert_allclose(x.grad.numpy(), calls[0])  # None keeps the gradient


def test_leaf_hook_replacement_goes_into_grad_and_accumulates():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g.clamp(-1.0, 1.0))
    (x * 5).sum().backward()
    (x * -0.5).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0 - 0.5, 1.0 - 0.5])


def test_hooks_run_in_order_and_remove():
    x = leaf([1.0])
    y = x * 1
    order = []
    h1 = y.register_hook(lambda g: order.append("first") or g * 2)
    y.register_hook(lambda g: order.append("second") or g + 1)
    y.sum().backward(retain_graph=True)
    assert order == ["first", "second"] and x.grad.tolist() == [3.0]
    h1.remove()
    h1.remove()  # a second remove does nothing
    x.grad = None
    order.clear()
    y.sum().backward()
    assert order == ["second"] and x.grad.tolist() == [2.0]


def test_handle_as_context_manager_and_retain_grad():
    x = leaf([2.0])
    y = x * x
    y.retain_grad()
    with y.register_hook(lambda g: g * 10):
        y.sum().backward(retain_graph=True)
    assert y.grad.tolist() == [10.0] and x.grad.tolist() == [40.0]  # .grad sees the hooked gradient, as torch
    x.grad = y.grad = None
    y.sum().backward()
    assert x.grad.tolist() == [4.0]


def test_autograd_grad_applies_hooks():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 2)
    y = x * 3
    y.register_hook(lambda g: g + 1)
    (g,) = gdcore.autograd.grad(y.sum(), x)
    np.testing.assert_allclose(g.numpy(), [(1 + 1) * 3 * 2, (1 + 1) * 3 * 2])


def test_per_parameter_gradient_clipping_in_a_model():
    gdcore.manual_seed(0)
    model = gdcore.nn.Linear(3, 1)
    for p in model.parameters():
        p.register_hook(lambda g: g.clamp(-0.01, 0.01))
    loss = (model(gdcore.randn(8, 3) * 100) ** 2).mean()
    loss.backward()
    for p in model.parameters():
        assert p.grad.abs().max().item() <= 0.01 + 1e-9


def test_bad_hooks():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        gdcore.ones(2).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="must be callable"):
        leaf([1.0]).register_hook(3)
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="changed the size"):
        (x * 2).sum().backward()
    y = leaf([1.0])
    y.register_hook(lambda g: "not a tensor")
    with pytest.raises(TypeError, match="must return None or a Tensor"):
        (y * 2).sum().backward()
    z = leaf([1.0])

    def fail(g):
        raise ValueError("from the hook")
    z.register_hook(fail)
    with pytest.raises(ValueError, match="from the hook"):
        (z * 2).sum().backward()


def test_compile_refuses_a_hook_registered_inside_the_step():
    w = leaf([1.0])

    def step(x):
        y = w * x
        y.register_hook(lambda g: g * 2)
        y.sum().backward()

    with pytest.raises(RuntimeError, match="register_hook"):
        gdcore.compile(step)(gdcore.tensor([1.0], dtype=gdcore.float64))


def test_compiled_step_runs_leaf_hooks_registered_before():
    w = leaf([1.0, 2.0])
    w.register_hook(lambda g: g * 10)

    def step(x):
        w.grad = None
        (w * x).sum().backward()
        return w.grad

    compiled = gdcore.compile(step)
    for k in range(3):
        x = gdcore.tensor([1.0 + k, -1.0], dtype=gdcore.float64)
        assert compiled(x).tolist() == [10.0 * (1.0 + k), -10.0]
