"""Timing one step function: calibrated repetitions, several samples, median and spread.

A sample times enough back-to-back calls to last at least ``min_sample_s`` (so that
microsecond steps are not lost in timer resolution) and reports the time per call. The
garbage collector is paused during a sample (as timeit does) and run between samples.
"""
from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, List


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
        start = time.perf_counter()
        for _ in range(calls):
            step()
        return (time.perf_counter() - start) / calls
    finally:
        gc.enable()


def measure(step: Callable[[], object], samples: int, budget_s: float, min_sample_s: float = 0.005) -> Timing:
    """Times ``step``: one warm-up call, then up to ``samples`` samples within about ``budget_s``
    seconds (at least 3 samples whatever the budget)."""
    first = _sample(step, 1)  # warm-up: caches, lazy initialisation, allocator pools
    calls = max(1, int(min_sample_s / max(first, 1e-9)))
    if calls > 1:  # the warm-up call may have been slow; calibrate on a few more
        calls = max(1, int(min_sample_s / max(_sample(step, min(calls, 100)), 1e-9)))
    timing = Timing(calls_per_sample=calls)
    deadline = time.perf_counter() + budget_s
    while len(timing.samples) < samples and (len(timing.samples) < 3 or time.perf_counter() < deadline):
        timing.samples.append(_sample(step, calls))
        gc.collect()
    return timing


def format_seconds(s: float) -> str:
    """A duration with a unit that keeps three significant digits: '4.12 ms', '812 ns'."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"
