"""Memory leak checks: long loops of training steps and of dropped graphs must not grow resident memory.

A fresh child process (so the heap is not shaped by whatever other tests ran before) warms up each
workload, reads its resident set size from /proc/self/statm, runs 100,000 iterations and reads it
again. A leak of even one small tensor or tape node per iteration (a hundred bytes or more) would
add 10 MB or more, far above the allowance. A control workload keeps its graphs alive on purpose,
and must show up, so the allowance is not so loose that the other checks could never fail.
scripts/leak_soak.py is the longer version (more workloads, any number of steps) for manual runs.
"""
import json
import os
import subprocess
import sys

import pytest

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads /proc/self/statm (Linux)"),
    # AddressSanitizer keeps freed memory in quarantine on purpose, so resident memory grows without a leak.
    pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""), reason="resident memory under AddressSanitizer"),
]

import gdcore
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(gdcore.__file__)))  # the gdcore under test
ITERATIONS = 100_000
ALLOWED_GROWTH = 3 * 2**20  # bytes

CHILD = r"""
import gc, json, os, sys
import numpy as np
import gdcore
from gdcore import nn, optim

ITERATIONS = int(sys.argv[1])
gdcore.manual_seed(0)

def resident_bytes():
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def growth(work, iterations):
    for _ in range(5_000):
        work()
    before = resident_bytes()
    for _ in range(iterations):
        work()
    return resident_bytes() - before

model = nn.Linear(2, 1)
X, y = gdcore.randn(4, 2), gdcore.randn(4, 1)
optimizer = optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)  # momentum: per-parameter state too

def step():
    optimizer.zero_grad()
    gdcore.mse_loss(model(X), y).backward()
    optimizer.step()

kept = []
result = {
    "training_steps": growth(step, ITERATIONS),
    "dropped_graphs": growth(lambda: gdcore.mse_loss(model(X), y), ITERATIONS),  # saved tensors, never backward
    "kept_graphs": growth(lambda: kept.append(gdcore.mse_loss(model(X), y)), ITERATIONS // 4),
    "parameters_finite": bool(all(np.isfinite(p.detach().numpy()).all() for p in model.parameters())),
}
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def measured():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [PYTHON_DIR, os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", CHILD, str(ITERATIONS)], capture_output=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def test_training_steps_do_not_grow_memory(measured):
    grew = measured["training_steps"]
    assert grew < ALLOWED_GROWTH, f"{ITERATIONS} training steps grew resident memory by {grew / 2**20:.1f} MB"
    assert measured["parameters_finite"]


def test_graphs_dropped_without_backward_are_freed(measured):
    grew = measured["dropped_graphs"]
    assert grew < ALLOWED_GROWTH, f"{ITERATIONS} dropped graphs grew resident memory by {grew / 2**20:.1f} MB"


def test_the_measurement_sees_a_real_leak(measured):
    grew = measured["kept_graphs"]
    assert grew > 4 * ALLOWED_GROWTH, f"keeping {ITERATIONS // 4} graphs alive grew memory by only {grew} bytes"
