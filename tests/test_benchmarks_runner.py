"""Smoke tests of the benchmark runner's switches for other machines and loaded ones.

--emulate-avx2 (benchmarks/emulation.py) must put gdcore and every OpenBLAS in the process on
their AVX2 code and say so in the header, and --cpu-time (benchmarks/timing.py) must time by
thread CPU time on one thread. Both set environment variables that libraries read once, at
load, so they are checked in one fresh `python -m benchmarks` process on the cheapest workload,
with the optional anchors skipped (torch is never needed). Nothing here looks at a timing.
"""
import os
import subprocess
import sys

import pytest

import gdcore
from gdcore import _core

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(gdcore.__file__)))
QUIET = ["--only", "op.value_mul", "--quick", "--no-memory", "--skip", "torch", "scikit-learn", "micrograd"]


def run_benchmarks(*args, env_extra=None):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [PYTHON_DIR, REPO, os.environ.get("PYTHONPATH")])))
    env.pop("GDCORE_SIMD", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "benchmarks", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def header(out):
    return dict(line.split(": ", 1) for line in out.splitlines()[:8] if ": " in line)


@pytest.mark.skipif("avx2" not in _core.simd_paths(), reason="this CPU has no AVX2")
def test_emulate_avx2_and_cpu_time_take_effect_and_the_header_says_so():
    done = run_benchmarks("--emulate-avx2", "--cpu-time", *QUIET)
    assert done.returncode == 0, done.stderr
    assert "SIMD path avx2" in done.stdout and "kernel threads 1" in done.stdout
    lines = header(done.stdout)
    assert lines["emulation"].startswith("AVX2 (GDCORE_SIMD=avx2") and "NOT on AVX2" not in lines["emulation"]
    cores = lines["code paths"].split(", ")[0]
    assert cores.startswith("openblas cores ") and cores.count("Haswell") == cores.count(".so") > 0
    assert lines["clock"].startswith("thread CPU time")
    assert "1 OpenMP thread" in done.stdout and "-mno-avx512f" in done.stdout  # the C loop's note


@pytest.mark.parametrize("args, message", [
    (["--emulate-avx2", "--simd", "scalar"], "cannot be combined with --simd scalar"),
    (["--cpu-time", "--threads", "2"], "cannot be combined with more threads"),
])
def test_contradicting_switches_are_refused(args, message):
    done = run_benchmarks(*args, *QUIET)
    assert done.returncode == 2 and message in done.stderr


def test_emulation_refuses_to_apply_after_the_libraries_loaded(monkeypatch):
    monkeypatch.syspath_prepend(REPO)
    from benchmarks import emulation

    assert emulation.apply([]) is False
    with pytest.raises(RuntimeError, match="imported before the AVX2 environment was set"):
        emulation.apply(["--emulate-avx2"])  # numpy and gdcore are loaded in this process


def test_c_reference_builds_with_the_requested_threads(monkeypatch):
    monkeypatch.syspath_prepend(REPO)
    from benchmarks import c_reference

    lib, note = c_reference.build(threads=1)
    if lib is None:
        pytest.skip(note)
    assert note.endswith("1 OpenMP thread")


def test_memory_child_measures_the_classification_step():
    # train.classify_mlp is a training workload, so target 5 (peak memory below torch's) covers it too.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [PYTHON_DIR, REPO, os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "benchmarks.memory_child", "train.classify_mlp", "gdcore", "--steps", "2"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert '"workload": "train.classify_mlp"' in done.stdout
