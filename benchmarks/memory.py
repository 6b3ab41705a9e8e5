"""Target 5: peak resident memory of the training workloads, one fresh process per row.

For each training workload (keys train.*) and each implementation that runs it, the runner
starts ``python -m benchmarks.memory_child KEY IMPL`` (see memory_child.py): a fresh process
that imports only that library, builds the workload, runs a fixed number of steps and prints
its resident set size after the imports and at the peak. A fresh process per row keeps one
library's allocator pools, caches and threads out of another's numbers, and separates what
importing a library costs (torch: about 200 MiB before any tensor exists) from what the
workload itself adds. Two children run at a time: resident memory does not depend on the
load, unlike the timings, which are all taken before.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .memory_child import IMPORTS, TRAINING
from .workload import Workload, by_key

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MiB = 1024 * 1024
CHILD_TIMEOUT_S = 900
PARALLEL_CHILDREN = 2


@dataclass
class MemoryResult:
    """What one child measured, in bytes."""
    workload: Workload
    impl: str
    steps: int
    after_import: int   # resident set size once the library is imported, before the workload exists
    peak: int           # the process's high-water mark (VmHWM) after setup and the steps
    libraries: List[str] = field(default_factory=list)  # the libraries loaded in the child at the end

    @property
    def growth(self) -> int:
        return self.peak - self.after_import


def child_command(key: str, impl: str, steps: int, quick: bool, child_options: Sequence[str] = ()) -> List[str]:
    """The command line of one child (run it from the repository root)."""
    return [sys.executable, "-m", "benchmarks.memory_child", key, impl, "--steps", str(steps),
            *(["--quick"] if quick else []), *child_options]


def child_environment() -> Dict[str, str]:
    """This process's environment, with the repository and the gdcore this runner imported first
    on PYTHONPATH, so that a child measures the same gdcore."""
    import gdcore

    gdcore_parent = os.path.dirname(os.path.dirname(os.path.abspath(gdcore.__file__)))
    paths = [gdcore_parent, REPO, os.environ.get("PYTHONPATH", "")]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p))


def run_child(key: str, impl: str, steps: int, quick: bool = False,
              child_options: Sequence[str] = ()) -> Tuple[Optional[dict], Optional[str]]:
    """Runs one child; returns (its JSON result, None) or (None, why it failed)."""
    try:
        done = subprocess.run(child_command(key, impl, steps, quick, child_options), cwd=REPO,
                              env=child_environment(), capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, f"no result within {CHILD_TIMEOUT_S} s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        return None, f"child exited with status {done.returncode}: {last}"
    try:
        return json.loads(done.stdout.strip().splitlines()[-1]), None
    except (IndexError, ValueError):
        return None, f"child printed no JSON result: {done.stdout[-200:]!r}"


def measure_memory(workloads: List[Workload], steps: int, quick: bool,
                   child_options: Sequence[str] = ()) -> Tuple[List[MemoryResult], List[str]]:
    """Peak memory of every implementation of every training workload in `workloads`.
    Returns the results (in table order) and notes on what could not be measured."""
    jobs, notes = [], []
    for w in workloads:
        if not w.key.startswith("train."):
            continue
        if w.key not in TRAINING:
            notes.append(f"memory: {w.key} not measured (add it to TRAINING in benchmarks/memory_child.py)")
            continue
        jobs += [(w, impl) for impl in w.impls if impl in IMPORTS]  # ("python floats" is a floor, not a library)
    with ThreadPoolExecutor(max_workers=PARALLEL_CHILDREN) as pool:
        outcomes = list(pool.map(lambda job: run_child(job[0].key, job[1], steps, quick, child_options), jobs))
    results = []
    for (w, impl), (data, error) in zip(jobs, outcomes):
        if error:
            notes.append(f"memory: {w.key} {impl} not measured: {error}")
            continue
        results.append(MemoryResult(w, impl, data["steps"], data["after_import_bytes"], data["peak_bytes"],
                                    data["libraries"]))
    return results, notes + _foreign_import_notes(results)


def _foreign_import_notes(results: List[MemoryResult]) -> List[str]:
    """Says where a child loaded a library besides its own (and numpy) to build the workload,
    e.g. gdcore to read the airfoil file: that import is inside the child's growth and peak."""
    notes = []
    for key, rows in by_key(results).items():
        loaders = [impl for impl, r in rows.items() if "gdcore" in r.libraries and not impl.startswith("gdcore")]
        if not loaders:
            continue
        cost = ""
        if "gdcore" in rows and "numpy" in rows:
            mib = (rows["gdcore"].after_import - rows["numpy"].after_import) / MiB
            cost = f" (about {mib:.0f} MiB: the gdcore child's after-import RSS minus the numpy child's)"
        notes.append(f"memory: {key}: the {' and '.join(loaders)} child{'ren' if len(loaders) > 1 else ''} also "
                     f"loaded gdcore while building the workload (its data is read with gdcore.data), so "
                     f"{'their' if len(loaders) > 1 else 'its'} growth and peak include gdcore's import{cost}")
    return notes



def memory_targets(results: List[MemoryResult]) -> List[dict]:
    """Target 5 per training workload: gdcore's peak resident memory <= torch's.
    ratio = torch's peak / gdcore's peak (at least 1: met)."""
    out = []
    for key, rows in by_key(results).items():
        if "gdcore" in rows and "torch" in rows:
            ratio = rows["torch"].peak / rows["gdcore"].peak
            out.append({"workload": key, "impl": "gdcore", "anchor": "torch", "target": "peak RSS <= torch's",
                        "ratio": ratio,
                        "met": ratio >= 1.0})
    return out


def render_memory(results: List[MemoryResult]) -> List[str]:
    """The memory section of the printed table."""
    if not results:
        return []
    steps = sorted({r.steps for r in results})
    lines = [f"peak resident memory (a fresh process per row: import the library, build the workload, setup, "
             f"{'/'.join(map(str, steps))} steps; MiB)",
             "growth = peak - after import; ratio = the row's peak / gdcore's peak (above 1: gdcore uses less)", ""]
    header = f"{'workload':<50} {'impl':<13} {'after import':>12} {'peak':>10} {'growth':>10} {'ratio':>8}"
    lines += [header, "-" * len(header)]
    for rows in by_key(results).values():
        gd = rows.get("gdcore")
        for k, (impl, r) in enumerate(rows.items()):
            title = r.workload.title if k == 0 else ""
            ratio = f"{r.peak / gd.peak:7.2f}x" if gd and impl != "gdcore" else ""
            lines.append(f"{title:<50} {impl:<13} {r.after_import / MiB:12.1f} {r.peak / MiB:10.1f} "
                         f"{r.growth / MiB:10.1f} {ratio:>8}")
    return lines


def memory_json(results: List[MemoryResult]) -> List[dict]:
    rows = []
    for key, by_impl in by_key(results).items():
        gd = by_impl.get("gdcore")
        for impl, r in by_impl.items():
            rows.append({"workload": key, "title": r.workload.title, "impl": impl, "steps": r.steps,
                         "after_import_bytes": r.after_import, "peak_bytes": r.peak, "growth_bytes": r.growth,
                         "peak_ratio_to_gdcore": r.peak / gd.peak if gd else None, "libraries": r.libraries})
    return rows
