"""Memory leak checks: long loops of training steps and of dropped graphs must not grow resident memory.

Each test warms up (so allocator pools, optimizer state and caches exist), reads the resident set size
from /proc/self/statm, runs 100,000 iterations and reads it again. A leak of even one small tensor or
tape node per iteration (a few hundred bytes) would add tens of MB, far above the allowance. A control
test keeps its graphs alive on purpose and checks the same measurement does see that growth, so the
allowance is not so loose that the other tests could never fail. scripts/leak_soak.py is the longer
version (more workloads, any number of steps) for manual runs.
"""
import gc
import os

import numpy as np
import pytest

import gdcore
from gdcore import nn, optim

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads /proc/self/statm (Linux)")

ITERATIONS = 100_000
WARM_UP = 5_000
ALLOWED_GROWTH = 3 * 2**20  # bytes


def resident_bytes() -> int:
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def growth(work, iterations: int = ITERATIONS) -> int:
    """Resident memory added by ``iterations`` calls of ``work`` after a warm-up, in bytes."""
    for _ in range(WARM_UP):
        work()
    before = resident_bytes()
    for _ in range(iterations):
        work()
    return resident_bytes() - before


def tiny_problem():
    model = nn.Linear(2, 1)
    return model, gdcore.randn(4, 2), gdcore.randn(4, 1)


def test_training_steps_do_not_grow_memory():
    model, X, y = tiny_problem()
    optimizer = optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)  # momentum: per-parameter state too

    def step():
        optimizer.zero_grad()
        loss = gdcore.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()

    grew = growth(step)
    assert grew < ALLOWED_GROWTH, f"{ITERATIONS} training steps grew resident memory by {grew / 2**20:.1f} MB"
    assert all(np.isfinite(p.detach().numpy()).all() for p in model.parameters())


def test_graphs_dropped_without_backward_are_freed():
    model, X, y = tiny_problem()

    def forward_only():
        gdcore.mse_loss(model(X), y)  # a graph with saved tensors, dropped at once

    grew = growth(forward_only)
    assert grew < ALLOWED_GROWTH, f"{ITERATIONS} dropped graphs grew resident memory by {grew / 2**20:.1f} MB"


def test_the_measurement_sees_a_real_leak():
    model, X, y = tiny_problem()
    kept = []

    def leaky():
        kept.append(gdcore.mse_loss(model(X), y))  # every graph stays alive

    grew = growth(leaky, iterations=ITERATIONS // 4)
    assert grew > 4 * ALLOWED_GROWTH, f"keeping {ITERATIONS // 4} graphs alive grew memory by only {grew} bytes"
    del kept[:]
