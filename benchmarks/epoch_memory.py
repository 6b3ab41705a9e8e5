"""Issue 14, target 3, the memory side: what pages and caches cost the per-sample epoch
(python -m benchmarks.epoch_memory [--rounds N] [--no-thp]; Linux).

Two measurements, both in thread CPU time so that a loaded machine's scheduling does not count:

1. The epoch's memory pattern without gdcore (row_gather.c): 200,000 random 128-byte rows on
   4 KB pages and on 2 MB pages, prefetched 0-64 rows ahead, with about a lowered step's work per
   row between the reads (min and median ns per row over the repetitions).
2. gdcore's lowered epoch loop itself (the C++ run_batches behind run_epoch, over a fixed order
   so that drawing the permutation is left out): sequential rows, shuffled rows, and the same
   step over 2,000 rows that stay in the core's L2 (x100, the same 200,000 samples, no memory
   misses at all), interleaved per round with two loops that touch no memory. A round where the
   L2-resident run is slow as well is slow for a reason that is not memory.

--no-thp turns transparent huge pages off for this process (prctl PR_SET_THP_DISABLE) before
anything is allocated, so every tensor is on 4 KB pages: run it with and without to see what
huge pages are worth. The header says how much of the epoch's data sits on huge pages.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROWS, FEATURES, LR = 200_000, 16, 1e-3


def _disable_thp() -> None:
    if ctypes.CDLL(None).prctl(41, 1, 0, 0, 0) != 0:  # PR_SET_THP_DISABLE
        raise SystemExit("prctl(PR_SET_THP_DISABLE) failed: this kernel cannot turn huge pages off per process")


def _library():
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise SystemExit("no C compiler (cc) found: row_gather.c cannot be built")
    out = os.path.join(tempfile.mkdtemp(prefix="gdcore_gather_"), "librowgather.so")
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "row_gather.c")
    subprocess.run([cc, "-O2", "-march=native", "-shared", "-fPIC", "-o", out, source], check=True)
    lib = ctypes.CDLL(out)
    lib.gather_rows_alloc.restype = ctypes.c_void_p
    lib.gather_rows_alloc.argtypes = [ctypes.c_int64, ctypes.c_int]
    lib.gather_ns_per_row.restype = ctypes.c_double
    lib.gather_ns_per_row.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int, ctypes.c_int]
    for f in (lib.alu_wide, lib.alu_calls):
        f.restype, f.argtypes = ctypes.c_double, [ctypes.c_long]
    return lib


def huge_page_kb(address: int, nbytes: int) -> int:
    """KB of [address, address + nbytes) that /proc/self/smaps counts as AnonHugePages."""
    total, inside = 0, False
    with open("/proc/self/smaps") as f:
        for line in f:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) ", line)
            if m:
                lo, hi = int(m.group(1), 16), int(m.group(2), 16)
                inside = lo < address + nbytes and hi > address
            elif inside and line.startswith("AnonHugePages"):
                total += int(line.split()[1])
    return total


def gather_table(lib, np, reps: int, work: int) -> None:
    order = np.random.default_rng(1).permutation(ROWS).astype(np.int64)
    sequential = np.arange(ROWS, dtype=np.int64)
    regions = {"4 KB": lib.gather_rows_alloc(ROWS, 0), "2 MB": lib.gather_rows_alloc(ROWS, 1)}
    for name, region in regions.items():
        print(f"  rows on {name} pages: {huge_page_kb(region, ROWS * FEATURES * 8)} KB of them on huge pages")
    aheads = (0, 1, 2, 4, 8, 16, 32, 64)
    times = {(o, a, p): [] for o in ("shuffled", "sequential") for a in aheads for p in regions}
    for _ in range(reps):  # interleaved, so that drift hits every cell alike
        for (o, a, p), ts in times.items():
            ts.append(lib.gather_ns_per_row(regions[p], (order if o == "shuffled" else sequential).ctypes.data,
                                            ROWS, a, work))
    print(f"  ns per row, min / median of {reps} ({work} dependent multiply-adds of work per row)")
    for o in ("shuffled", "sequential"):
        for a in aheads:
            cells = "   ".join(f"{p}: {min(times[o, a, p]):6.1f} / {np.median(times[o, a, p]):6.1f}" for p in regions)
            print(f"  {o:10s} prefetch {a:2d} ahead   {cells}")


def epoch_table(lib, np, rounds: int) -> None:
    import gdcore
    rng = np.random.default_rng(0)
    X = rng.standard_normal((ROWS, FEATURES))
    y = X @ rng.standard_normal(FEATURES) + 0.1 * rng.standard_normal(ROWS)
    data = [gdcore.tensor(X), gdcore.tensor(y)]
    small = [gdcore.tensor(X[:2000]), gdcore.tensor(y[:2000])]
    on_huge = huge_page_kb(data[0].data_ptr(), X.nbytes)
    print(f"  data: {X.nbytes // 1024} KB; its block's pages on huge pages: {on_huge} KB")

    def lowered(tensors):
        w = gdcore.zeros(FEATURES, dtype=gdcore.float64, requires_grad=True)
        b = gdcore.zeros(1, dtype=gdcore.float64, requires_grad=True)
        optimizer = gdcore.optim.SGD([w, b], lr=LR)

        def sample_step(xb, yb):
            loss = ((xb @ w + b - yb) ** 2 / 2).sum()
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            return loss
        step = gdcore.compile(sample_step)
        for _ in range(2):  # records, then lowers
            step.epoch(*tensors, batch_size=1)
        capture = next(iter(step._captures.values()))
        if capture.program.lowering != "lowered":
            raise SystemExit(f"the step did not lower: {capture.program.lowering}")

        def run(order):
            capture.sync_in()
            try:
                capture.program.run_batches(tensors, order, 1, order.numel(), 1, 0)
            finally:
                capture.sync_out()
        return run

    big, l2 = lowered(data), lowered(small)
    shuffled = gdcore.from_numpy(np.random.default_rng(1).permutation(ROWS).astype(np.int64))
    sequential, sequential_small = gdcore.arange(ROWS), gdcore.arange(2000)
    loops = {"no memory: 8 chains": lambda: lib.alu_wide(3_000_000),
             "no memory: calls": lambda: lib.alu_calls(400_000),
             "epoch sequential": lambda: big(sequential),
             "epoch shuffled": lambda: big(shuffled),
             "L2-resident x100": lambda: [l2(sequential_small) for _ in range(100)]}
    for f in loops.values():
        f()
    times = {name: [] for name in loops}
    for _ in range(rounds):
        for name, f in loops.items():
            start = time.thread_time()
            f()
            times[name].append((time.thread_time() - start) * 1e3)
    print("  CPU ms per round: " + " | ".join(loops))
    for r in range(rounds):
        print("  " + "".join(f"{times[name][r]:>{len(name) + 3}.2f}" for name in loops))
    print("  median" + "".join(f"{np.median(times[name]):>{len(name) + 3}.2f}" for name in loops)[6:])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.epoch_memory", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=12, help="rounds of the gdcore table (default 12)")
    parser.add_argument("--reps", type=int, default=9, help="repetitions of the row-gather table (default 9)")
    parser.add_argument("--work", type=int, default=12, help="multiply-adds of work per row in the gather table")
    parser.add_argument("--no-thp", action="store_true", help="transparent huge pages off for this process")
    parser.add_argument("--skip-gather", action="store_true", help="only the gdcore table")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        raise SystemExit("epoch_memory reads /proc/self/smaps and maps memory with Linux's advice: Linux only")
    if args.no_thp:
        _disable_thp()
    import numpy as np
    lib = _library()
    print(f"transparent huge pages {'off (prctl)' if args.no_thp else 'as the allocator asks'}; "
          f"load average {os.getloadavg()[0]:.2f}")
    if not args.skip_gather:
        print("1. the epoch's memory pattern in C (row_gather.c)")
        gather_table(lib, np, args.reps, args.work)
    print("2. gdcore's lowered epoch loop (run_batches over a fixed order) and loops that touch no memory")
    epoch_table(lib, np, args.rounds)


if __name__ == "__main__":
    main()
