"""all_reduce latency and bandwidth: gdcore.distributed.all_reduce on a tensor against raw mpi4py on numpy.

Run it under the launcher (not part of ``python -m benchmarks``, which runs in one process):

    gdcore launch -n 2 benchmarks/distributed_allreduce.py [--json out.json] [--max-mib 64]

Sizes go from 1 float32 to --max-mib MiB by factors of 16. The two implementations alternate within each
round (the load on a shared machine drifts and should hit both alike), all ranks start each sample together
after a barrier, and a sample is the mean of enough calls to last about 20 ms. Rank 0 prints, per size, the
best and the median sample of each and gdcore's overhead; bus bandwidth is 2(p-1)/p * bytes / time, the
ring all-reduce's traffic per rank (docs/scaling.md).
"""
import argparse
import json
import statistics
import time

import numpy as np

import gdcore
import gdcore.distributed as dist


def _sample(call, comm, target_s: float, calls: int) -> float:
    comm.Barrier()
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-mib", type=float, default=64)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    dist.init_process_group("mpi")
    from mpi4py import MPI
    comm, rank, world = MPI.COMM_WORLD, dist.get_rank(), dist.get_world_size()
    sizes, n = [], 1
    while n * 4 <= args.max_mib * 2**20:
        sizes.append(n)
        n *= 16
    if sizes[-1] * 4 < args.max_mib * 2**20:
        sizes.append(int(args.max_mib * 2**20) // 4)
    rows = []
    for n in sizes:
        t = gdcore.zeros(n)
        a = np.zeros(n, dtype=np.float32)
        impls = {"gdcore": lambda: dist.all_reduce(t), "mpi4py": lambda: comm.Allreduce(MPI.IN_PLACE, a)}
        for call in impls.values():                       # warm up, and estimate the calls per sample
            call()
        comm.Barrier()
        started = time.perf_counter()
        impls["mpi4py"]()
        one = comm.allreduce(time.perf_counter() - started, op=MPI.MAX)
        calls = max(1, min(20000, int(0.02 / max(one, 1e-7))))
        samples = {name: [] for name in impls}
        for _ in range(args.rounds):
            for name, call in impls.items():
                samples[name].append(_sample(call, comm, 0.02, calls))
        best = {name: comm.allreduce(min(s), op=MPI.MAX) for name, s in samples.items()}
        median = {name: comm.allreduce(statistics.median(s), op=MPI.MAX) for name, s in samples.items()}
        bytes_ = n * 4
        rows.append({"floats": n, "bytes": bytes_, "calls_per_sample": calls,
                     "gdcore_best_s": best["gdcore"], "mpi4py_best_s": best["mpi4py"],
                     "gdcore_median_s": median["gdcore"], "mpi4py_median_s": median["mpi4py"],
                     "bus_GBps": 2 * (world - 1) / world * bytes_ / best["gdcore"] / 1e9})
    if rank == 0:
        print(f"all_reduce (SUM, float32) on {world} ranks; times per call, best / median of {args.rounds} samples")
        print(f"{'size':>10} {'gdcore':>21} {'mpi4py':>21} {'overhead (best)':>16} {'bus GB/s':>9}")
        for r in rows:
            size = f"{r['bytes']} B" if r["bytes"] < 2**10 else (f"{r['bytes'] / 2**10:g} KiB" if r["bytes"] < 2**20
                                                                 else f"{r['bytes'] / 2**20:g} MiB")
            over = r["gdcore_best_s"] - r["mpi4py_best_s"]
            rel = over / r["mpi4py_best_s"] * 100
            print(f"{size:>10} {_us(r['gdcore_best_s']):>10} /{_us(r['gdcore_median_s']):>9} "
                  f"{_us(r['mpi4py_best_s']):>10} /{_us(r['mpi4py_median_s']):>9} "
                  f"{_us(over):>9} ({rel:+.0f}%) {r['bus_GBps']:>9.2f}")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"world_size": world, "rows": rows}, f, indent=1)
    dist.destroy_process_group()


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


if __name__ == "__main__":
    main()
