"""Workflow (e): LeNet-5 on one 1x1x32x32 input, the chapter's walk through a training step:
MSELoss against a random target, net.zero_grad(), backward, conv1.bias.grad before and after; one update
by hand over net.parameters(); then optim.SGD on the same fixed batch for a few hundred steps, the loss
falling.
"""
from __future__ import annotations

import time
from typing import Optional

import gdcore
from .. import nn, optim
from ..nn import functional as F
from ..train import check_finite
from .result import Log, WorkflowResult, close, emit, plot_path


class LeNet(nn.Module):
    """(N, 1, 32, 32) -> (N, 10): conv 5x5 (6) -> relu -> pool 2 -> conv 5x5 (16) -> relu -> pool 2 ->
    flatten (400) -> 120 -> relu -> 84 -> relu -> 10."""

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


def _grad_text(t) -> str:
    return "None" if t is None else "[" + ", ".join(f"{v:.4g}" for v in t.tolist()) + "]"


def run(steps: int = 300, lr: float = 0.01, seed: int = 0, print_every: int = 50, out: Optional[str] = None,
        log: Log = None) -> WorkflowResult:
    """Walk through one step by hand, then train on the fixed batch; return the loss before and after."""
    started = time.perf_counter()
    gdcore.manual_seed(seed)
    net = LeNet()
    emit(log, repr(net))
    g = gdcore.Generator(seed)
    image = gdcore.randn(1, 1, 32, 32, generator=g)
    target = gdcore.randn(1, 10, generator=g)
    criterion = nn.MSELoss()

    loss = criterion(net(image), target)
    emit(log, f"loss {loss.item():.6f}")
    net.zero_grad()
    before = net.conv1.bias.grad
    emit(log, f"conv1.bias.grad before backward: {_grad_text(before)}")
    loss.backward()
    after = net.conv1.bias.grad.clone()
    emit(log, f"conv1.bias.grad after backward:  {_grad_text(after)}")
    with gdcore.no_grad():
        for p in net.parameters():           # one update by hand: p <- p - lr * grad
            p.data.sub_(p.grad.data * lr)

    optimizer = optim.SGD(net.parameters(), lr=lr)
    losses = [loss.item()]
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        loss = criterion(net(image), target)
        losses.append(check_finite(loss, step=step, lr=lr))
        loss.backward()
        optimizer.step()
        if step % print_every == 0:
            emit(log, f"step {step:4d}  loss {losses[-1]:.6g}")
    with gdcore.no_grad():
        final = criterion(net(image), target).item()
    seconds = time.perf_counter() - started
    emit(log, f"loss on the fixed batch: {losses[0]:.6g} -> {final:.6g} after {steps} SGD steps")

    plots = []
    path = plot_path(out, "e_lenet_loss.png")
    if path is not None:
        from .. import plot
        from ..train import History
        curve = History(epochs=[float(s) for s in range(len(losses))], losses=losses, label="LeNet, fixed batch")
        close(plot.plot_losses(curve, path=path, xlabel="step", yscale="log", title=f"(e) LeNet, SGD(lr={lr:g})"))
        plots.append(path)
    return WorkflowResult(
        name="(e) LeNet",
        fitted=f"{sum(p.numel() for p in net.parameters())} weights on one image: loss {losses[0]:.4g} -> {final:.3g}",
        final_loss=final, seconds=seconds, plots=plots,
        learned={"conv1_bias_grad_before": None if before is None else before.tolist(),
                 "conv1_bias_grad_after": after.tolist(), "initial_loss": losses[0], "losses": losses,
                 "steps": steps, "lr": lr})
