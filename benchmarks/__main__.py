"""Times gdcore against numpy, torch, scikit-learn and micrograd and prints one table.

python -m benchmarks [--quick] [--json out.json] [--only PREFIX ...] [--skip torch ...] [--simd PATH] [--no-memory]
                     [--emulate-avx2] [--cpu-time]

Times every workload for gdcore and each installed anchor and prints one table (see the
package docstring); then measures the peak resident memory of each training workload in a
fresh process per implementation (memory.py). --quick takes fewer samples (same sizes) and
fewer memory steps; --only keeps the workloads whose key starts with one of the prefixes
(kernel, train, op, train.lenet, ...); --no-memory leaves the memory runs out; --emulate-avx2
puts gdcore, OpenBLAS, torch and the C loop on their AVX2 code (emulation.py); --cpu-time runs
everything on one thread and times it by thread CPU time (timing.py), for a loaded machine.
"""
from __future__ import annotations

import argparse
import gc
import sys

from . import emulation, timing

# Before numpy, gdcore or torch load: they read their code-path and thread variables once, at load.
EMULATE_AVX2 = __name__ == "__main__" and emulation.apply(sys.argv[1:])
CPU_TIME = __name__ == "__main__" and timing.apply_cpu_time(sys.argv[1:])

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
    parser.add_argument(emulation.FLAG, action="store_true",
                        help="an AVX2 machine on an AVX-512 one: gdcore, OpenBLAS, torch (ATen, oneDNN, MKL) and the "
                             "C loop on their AVX2 code (set before the libraries load; the header shows what took)")
    parser.add_argument(timing.CPU_TIME_FLAG, action="store_true",
                        help="one thread for everything, timed by thread CPU time (time.thread_time): the cost of "
                             "the code on a loaded machine, where wall time measures the scheduler")
    args = parser.parse_args(argv)
    for flag, applied in ((emulation.FLAG, EMULATE_AVX2), (timing.CPU_TIME_FLAG, CPU_TIME)):
        if getattr(args, flag[2:].replace("-", "_")) and not applied:
            parser.error(f"{flag} works only as `python -m benchmarks {flag}`: the environment must be set before "
                         "numpy, gdcore and torch load")
    if args.cpu_time:
        if (args.threads or 1) != 1 or (args.torch_threads or 1) != 1:
            parser.error(f"{timing.CPU_TIME_FLAG} times one thread; it cannot be combined with more threads")
        args.threads = args.torch_threads = 1
        _core._set_blas_threads(1)
    if args.emulate_avx2 and args.simd not in (None, "avx2"):
        parser.error(f"{emulation.FLAG} runs gdcore on avx2; it cannot be combined with --simd {args.simd}")

    if args.simd:
        _core._set_simd_path(args.simd)
    if args.threads:
        _core._set_kernel_threads(args.threads)
    anchors = Anchors(skip=args.skip)
    if args.torch_threads and anchors.get("torch"):
        anchors.get("torch").set_num_threads(args.torch_threads)
    c_lib, c_note = c_reference.build(emulation.C_FLAGS if args.emulate_avx2 else (), threads=_core._kernel_threads())
    notes = list(anchors.notes) + [f"C loop: {c_note}"]
    info = machine_info(anchors.versions())
    info["clock"] = ("thread CPU time (time.thread_time), everything on one thread" if args.cpu_time
                     else "wall time (time.perf_counter)")
    info.update(emulation.in_effect(anchors.get("torch")))
    if args.emulate_avx2:
        missed = emulation.check(anchors.get("torch"))
        info["emulation"] = "AVX2 (" + ", ".join(f"{k}={v}" for k, v in emulation.AVX2_ENVIRONMENT.items()) + ")"
        if missed:
            info["emulation"] += "; NOT on AVX2: " + "; ".join(missed)
    gdcore.manual_seed(0)

    workloads = [
        *kernel_workloads(KERNEL_SIZE, anchors, c_lib),
        linear_1_1(anchors), *airfoil(anchors), per_sample_sgd(anchors, args.quick, c_lib),
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
        for impl, measured in timings.items():
            result = Result(w, impl, measured)
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
