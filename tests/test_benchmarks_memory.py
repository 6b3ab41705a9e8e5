"""Smoke tests of the benchmark runner's memory child (benchmarks/memory_child.py).

The child is run as the runner runs it, in a fresh process, on the cheapest training
workload with gdcore and with numpy only (no torch needed). No sizes are asserted beyond
what must hold for any correct measurement: positive, peak >= after import, a known
allocation shows up, and a numpy child does not load gdcore.
"""
import json
import os
import subprocess
import sys

import pytest

import gdcore

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The gdcore under test (the installed package in CI, python/ in a development build).
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(gdcore.__file__)))
MiB = 1024 * 1024


def run_python(*args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [PYTHON_DIR, REPO, os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def run_child(*args):
    done = run_python("-m", "benchmarks.memory_child", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_gdcore_child_reports_positive_consistent_sizes():
    result = run_child("train.linear_1_1", "gdcore", "--steps", "3")
    assert result["workload"] == "train.linear_1_1" and result["impl"] == "gdcore" and result["steps"] == 3
    for name in ("after_import_bytes", "peak_bytes", "final_bytes"):
        assert isinstance(result[name], int) and result[name] > MiB, (name, result)
    assert result["peak_bytes"] >= result["after_import_bytes"]
    assert result["peak_bytes"] >= result["final_bytes"]
    assert result["growth_bytes"] == result["peak_bytes"] - result["after_import_bytes"]
    assert "gdcore" in result["libraries"] and "torch" not in result["libraries"]


def test_numpy_child_does_not_load_gdcore():
    result = run_child("train.linear_1_1", "numpy", "--steps", "3")
    assert result["libraries"] == ["numpy"]
    assert result["peak_bytes"] >= result["after_import_bytes"] > MiB


def test_resident_bytes_sees_a_known_allocation():
    # 64 MiB written byte by byte must raise both the current and the peak resident size by about that much.
    code = ("from benchmarks.memory_child import resident_bytes\n"
            "before, _ = resident_bytes()\n"
            "block = b'x' * (64 << 20)\n"
            "current, peak = resident_bytes()\n"
            "print(before, current, peak)\n")
    done = run_python("-c", code)
    assert done.returncode == 0, done.stderr
    before, current, peak = map(int, done.stdout.split())
    assert current - before >= 60 * MiB
    assert peak >= current


@pytest.mark.parametrize("args, message", [
    (["train.nonexistent", "gdcore"], "unknown workload 'train.nonexistent'; the memory child knows: train.linear_1_1"),
    (["train.linear_1_1", "jax"], "unknown implementation 'jax'"),
    (["train.linear_1_1", "gdcore", "--steps", "0"], "steps must be at least 1, got 0"),
    (["train.value_mlp", "numpy"], "workload train.value_mlp has no implementation 'numpy' here; it has: gdcore"),
])
def test_bad_arguments_exit_with_a_message(args, message):
    done = run_python("-m", "benchmarks.memory_child", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stdout == ""
