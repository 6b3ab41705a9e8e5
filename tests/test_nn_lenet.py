"""A LeNet-5 built from gdcore.nn, end to end: output shape, zero_grad, and the loss falling
under hand-written SGD updates on a fixed batch."""
import numpy as np

import gdcore
import gdcore.nn.functional as F
from gdcore import nn


class LeNet(nn.Module):
    """(N, 1, 32, 32) -> (N, 10)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def test_lenet_shapes_parameters_and_repr():
    net = LeNet()
    out = net(gdcore.randn(1, 1, 32, 32))
    assert tuple(out.shape) == (1, 10)
    assert tuple(net(gdcore.randn(3, 1, 32, 32)).shape) == (3, 10)
    expected = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,), (84, 120), (84,), (10, 84), (10,)]
    assert [tuple(p.shape) for p in net.parameters()] == expected
    assert sum(p.numel() for p in net.parameters()) == 61706  # the classic LeNet-5 count
    assert "(conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))" in repr(net)


def test_lenet_zero_grad_then_backward_fills_conv1_bias_grad():
    net = LeNet()
    loss = nn.MSELoss()(net(gdcore.randn(1, 1, 32, 32)), gdcore.randn(1, 10))
    net.zero_grad()
    assert net.conv1.bias.grad is None
    loss.backward()
    grad = net.conv1.bias.grad
    assert tuple(grad.shape) == (6,) and np.isfinite(grad.numpy()).all() and np.abs(grad.numpy()).sum() > 0
    net.zero_grad(set_to_none=False)
    assert not net.conv1.bias.grad.numpy().any()


def test_lenet_conv1_bias_grad_matches_finite_difference():
    """One end-to-end derivative of the whole network against a central difference (float64)."""
    net = LeNet().double()
    g = gdcore.Generator(3)
    x = gdcore.randn(2, 1, 32, 32, dtype=gdcore.float64, generator=g)
    target = gdcore.randn(2, 10, dtype=gdcore.float64, generator=g)
    loss_fn = nn.MSELoss()
    loss_fn(net(x), target).backward()
    analytic = net.conv1.bias.grad.numpy().copy()
    eps = 1e-6
    numeric = np.zeros(6)
    with gdcore.no_grad():
        for k in range(6):
            old = net.conv1.bias[k].item()
            net.conv1.bias[k] = old + eps
            up = loss_fn(net(x), target).item()
            net.conv1.bias[k] = old - eps
            down = loss_fn(net(x), target).item()
            net.conv1.bias[k] = old
            numeric[k] = (up - down) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-8)


def test_lenet_loss_falls_under_manual_sgd():
    net = LeNet()
    g = gdcore.Generator(1)
    x = gdcore.randn(4, 1, 32, 32, generator=g)
    target = gdcore.randn(4, 10, generator=g)
    loss_fn = nn.MSELoss()
    lr = 0.05
    losses = []
    for _ in range(50):
        net.zero_grad()
        loss = loss_fn(net(x), target)
        loss.backward()
        losses.append(loss.item())
        with gdcore.no_grad():
            for p in net.parameters():
                p -= lr * p.grad
    assert all(np.isfinite(losses))
    assert losses[-1] < 0.6 * losses[0], losses
    # Mostly downhill: full-batch gradient descent with a small step.
    assert sum(b < a for a, b in zip(losses, losses[1:])) >= 45
