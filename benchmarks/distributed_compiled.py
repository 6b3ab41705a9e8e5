"""DistributedDataParallel steps eager against compiled (gdcore.compile), and the two ways the all-reduce reaches MPI.

    gdcore launch -n 1 benchmarks/distributed_compiled.py     # the step's own cost, no waiting for other ranks
    gdcore launch -n 2 benchmarks/distributed_compiled.py     # with a real all-reduce over shared memory

For the distributed examples' models (airfoil Linear(5, 1) at B = 10; classification MLP 2-64-64-3 at B = 64),
a training step (zero_grad, forward, loss, backward, all-reduce, SGD step) is timed eagerly, compiled (a lowered
replay: a flat list of loops and the direct MPI call) and compiled with the all-reduce going through Python
(the fallback of gdcore/distributed/native.py). Best of 5 samples, the slowest rank's.
"""
import argparse

import gdcore
import gdcore.distributed as dist
from gdcore import nn, optim
from gdcore.distributed.native import Collectives
from gdcore.nn.parallel import DistributedDataParallel

from benchmarks.distributed_scaling import MODELS, _time_steps


def main(argv=None):
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    comm = dist.process_group._world.comm
    if rank == 0:
        print(f"{world} rank(s); per-step time, best of 5 samples")
        print(f"{'model':<22} {'B':>5} {'eager DDP':>11} {'compiled':>11} {'compiled, via Python':>21}")
    for name, (make, batches) in MODELS.items():
        B = batches[0]
        times = []
        for mode in ("eager", "compiled", "python"):
            gdcore.manual_seed(0)
            module, n_in, n_out = make()
            ddp = DistributedDataParallel(module)
            if mode == "python":
                object.__setattr__(ddp, "_collectives", Collectives(ddp._pg, root=0, force_python=True))
            opt = optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
            X, y = gdcore.randn(B // world, n_in), gdcore.randn(B // world, n_out)
            loss_fn = nn.MSELoss()

            def step(x, t):
                opt.zero_grad()
                loss = loss_fn(ddp(x), t)
                loss.backward()
                opt.step()
                return loss
            run = step if mode == "eager" else gdcore.compile(step)
            times.append(_time_steps(lambda: run(X, y), comm))
        if rank == 0:
            print(f"{name:<22} {B:>5} " + " ".join(f"{t * 1e6:>9.1f}us" for t in times[:2]) +
                  f" {times[2] * 1e6:>19.1f}us", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
