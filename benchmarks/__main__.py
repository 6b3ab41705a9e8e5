"""Times gdcore against numpy, torch, scikit-learn and micrograd and prints one table.

python -m benchmarks [--quick] [--json out.json] [--only PREFIX ...] [--skip torch ...] [--simd PATH] [--no-memory]

Times every workload for gdcore and each installed anchor and prints one table (see the
package docstring); then measures the peak resident memory of each training workload in a
fresh process per implementation (memory.py). --quick takes fewer samples (same sizes) and
fewer memory steps; --only keeps the workloads whose key starts with one of the prefixes
(kernel, train, op, train.lenet, ...); --no-memory leaves the memory runs out.
"""
from __future__ import annotations

import argparse
import gc
import sys

import gdcore
from gdcore import _core

from . import c_reference
from .anchors import Anchors
from .classification import classification_workloads
from .kernels import kernel_workloads
from .machine import machine_info
from .memory import measure_memory
from .networks import lenet_workloads, value_mlp
from .ops import matmul_workloads, op_overhead_workloads
from .report import Result, render, to_json
from .small_models import airfoil, linear_1_1, per_sample_sgd
from .timing import format_seconds, measure_rounds

KERNEL_SIZE = 2**24
MEMORY_STEPS, MEMORY_STEPS_QUICK = 20, 5


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples per measurement (same sizes)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument("--only", nargs="+", metavar="PREFIX", help="only workloads whose key starts so")
    parser.add_argument("--skip", nargs="+", metavar="ANCHOR", choices=["torch", "scikit-learn", "micrograd"],
                        help="leave an installed anchor out")
    parser.add_argument("--simd", choices=["avx512", "avx2", "scalar"], help="run gdcore's kernels on this path")
    parser.add_argument("--threads", type=int, help="split gdcore's large kernel calls over this many threads")
    parser.add_argument("--torch-threads", type=int,
                        help="torch.set_num_threads(N): on a shared, busy machine 1 gives stabler torch numbers")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the peak-memory runs of the training workloads (a fresh process each)")
    args = parser.parse_args(argv)

    if args.simd:
        _core._set_simd_path(args.simd)
    if args.threads:
        _core._set_kernel_threads(args.threads)
    anchors = Anchors(skip=args.skip)
    if args.torch_threads and anchors.get("torch"):
        anchors.get("torch").set_num_threads(args.torch_threads)
    c_lib, c_note = c_reference.build()
    notes = list(anchors.notes) + [f"C loop: {c_note}"]
    info = machine_info(anchors.versions())
    gdcore.manual_seed(0)

    workloads = [
        *kernel_workloads(KERNEL_SIZE, anchors, c_lib),
        linear_1_1(anchors), *airfoil(anchors), per_sample_sgd(anchors, args.quick),
        *lenet_workloads(anchors), value_mlp(anchors),
        *matmul_workloads(anchors), *op_overhead_workloads(anchors), *classification_workloads(anchors, c_lib),
    ]
    if args.only:
        workloads = [w for w in workloads if any(w.key.startswith(p) for p in args.only)]
    samples, budget, rounds = (4, 1.0, 2) if args.quick else (15, 4.0, 5)

    results = []
    for w in workloads:
        steps = {impl: setup() for impl, setup in w.impls.items()}
        timings = measure_rounds(steps, samples=samples, budget_s=budget, rounds=rounds)
        del steps
        gc.collect()
        for impl, timing in timings.items():
            result = Result(w, impl, timing)
            results.append(result)
            print(f"  {w.key:<24} {impl:<15} {format_seconds(result.seconds('median')):>10}", file=sys.stderr,
                  flush=True)

    memory = []
    if not args.no_memory:
        print("  memory: a fresh process per training workload and implementation ...", file=sys.stderr, flush=True)
        child_options = [*(["--torch-threads", str(args.torch_threads)] if args.torch_threads else []),
                         *(["--simd", args.simd] if args.simd else []),
                         *(["--threads", str(args.threads)] if args.threads else [])]
        memory, memory_notes = measure_memory(workloads, MEMORY_STEPS_QUICK if args.quick else MEMORY_STEPS,
                                              args.quick, child_options)
        notes += memory_notes

    print(render(info, notes, results, memory))
    if args.json:
        with open(args.json, "w") as f:
            f.write(to_json(info, notes, results, memory))
    return 0


if __name__ == "__main__":
    sys.exit(main())
