"""Timing step functions: calibrated repetitions, samples taken in rounds, median and spread.

A sample times enough back-to-back calls to last at least ``min_sample_s`` (so that
microsecond steps are not lost in timer resolution) and reports the time per call. The
implementations of one workload are measured in rounds, each round taking a few samples of
every implementation in turn: on a shared machine the load drifts, and interleaving lets
the drift hit every implementation alike instead of whichever happened to run during a
busy minute. Between implementations the runner pauses briefly, so that the spinning
worker threads of the previous one (OpenMP, OpenBLAS) have gone to sleep. The garbage
collector is paused during a sample (as timeit does) and run between samples.

With --cpu-time a sample is the calling thread's CPU time (time.thread_time) instead of wall
time, and everything runs on that one thread (gdcore's kernels and OpenBLAS, numpy's OpenBLAS,
torch, the C loop), so the thread's CPU time is the whole cost of a call. On a shared machine
with more runnable processes than cores, wall time mostly measures the scheduler (a thread
waiting at a barrier for a descheduled partner, a step waiting for its turn); CPU time does not.
"""
from __future__ import annotations

import gc
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Sequence

SWITCH_PAUSE_S = 0.1

CPU_TIME_FLAG = "--cpu-time"
# Set before numpy, gdcore and torch load (their thread pools read these once, at load).
ONE_THREAD_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

_clock: Callable[[], float] = time.perf_counter


def apply_cpu_time(argv: Sequence[str]) -> bool:
    """With --cpu-time in `argv`: the one-thread environment, and samples timed by thread CPU time.
    Call it before numpy, gdcore or torch is imported; returns whether it applied."""
    global _clock
    if CPU_TIME_FLAG not in argv:
        return False
    os.environ.update(ONE_THREAD_ENVIRONMENT)
    _clock = time.thread_time
    return True


@dataclass
class Timing:
    """Seconds per call over the samples of one measurement."""
    samples: List[float] = field(default_factory=list)
    calls_per_sample: int = 1

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)


def _sample(step: Callable[[], object], calls: int) -> float:
    gc.disable()
    try:
        start = _clock()
        for _ in range(calls):
            step()
        return (_clock() - start) / calls
    finally:
        gc.enable()


def _calls_per_sample(step: Callable[[], object], min_sample_s: float) -> int:
    first = _sample(step, 1)  # warm-up: caches, lazy initialisation, allocator pools
    calls = max(1, int(min_sample_s / max(first, 1e-9)))
    if calls > 1:  # the warm-up call may have been slow; calibrate on a few more
        calls = max(1, int(min_sample_s / max(_sample(step, min(calls, 100)), 1e-9)))
    return calls


def measure_rounds(steps: Dict[str, Callable[[], object]], samples: int, budget_s: float,
                   rounds: int = 5, min_sample_s: float = 0.005) -> Dict[str, Timing]:
    """Times every step of ``steps``: ``samples`` samples each, taken over ``rounds`` rounds,
    stopping early (after at least one round) once about ``budget_s`` seconds per step are spent."""
    timings = {name: Timing(calls_per_sample=_calls_per_sample(step, min_sample_s)) for name, step in steps.items()}
    per_round = max(1, -(-samples // rounds))
    spent = dict.fromkeys(steps, 0.0)
    for r in range(rounds):
        for name, step in steps.items():
            t = timings[name]
            if len(t.samples) >= samples or (r > 0 and spent[name] > budget_s):
                continue
            time.sleep(SWITCH_PAUSE_S)
            start = time.perf_counter()
            for _ in range(per_round):
                t.samples.append(_sample(step, t.calls_per_sample))
                gc.collect()
            spent[name] += time.perf_counter() - start
    return timings


def format_seconds(s: float) -> str:
    """A duration with a unit that keeps three significant digits: '4.12 ms', '812 ns'."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"
