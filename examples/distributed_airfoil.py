"""The chapter's mini-batch SGD on the airfoil self-noise data, data parallel over MPI ranks.

Linear regression (nn.Linear(5, 1), nn.MSELoss, optim.SGD at lr / 2: the chapter's squared_loss is half the
MSE) with a global batch of --batch-size rows split evenly over the ranks: each rank reads its share through a
DistributedSampler, DistributedDataParallel averages the gradients after every backward, and every rank ends
each step with the same weights. Rank 0 prints the loss on the full data and the seconds per epoch.

    gdcore launch -n 2 examples/distributed_airfoil.py          # two ranks on this machine
    python examples/distributed_airfoil.py                      # one process (world size 1), the same numbers
    GDCORE_DATA_DIR=../shared/data gdcore launch -n 2 examples/distributed_airfoil.py --epochs 4

With the same --seed and --batch-size every world size that divides the batch trains the same model up to
rounding (the ranks' shares of a step are the same rows as one process's batch).
"""
import argparse
import sys
import time

import gdcore
import gdcore.distributed as dist
from gdcore import nn, optim
from gdcore.data import DataLoader, DistributedSampler, TensorDataset, load_airfoil
from gdcore.nn.parallel import DistributedDataParallel


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lr", type=float, default=0.05, help="the chapter's learning rate (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=10, help="global batch (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=2, help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    parser.add_argument("--download", action="store_true", help="download the data when it is not found")
    args = parser.parse_args(argv)

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    log = print if rank == 0 else (lambda *a, **k: None)
    if args.batch_size % world:
        sys.exit(f"distributed_airfoil: --batch-size {args.batch_size} does not split over {world} ranks")
    try:
        X, y = load_airfoil(download=args.download)      # every rank reads the file (or: rank 0 and broadcast)
    except FileNotFoundError as err:
        sys.exit(f"distributed_airfoil: {err} (set GDCORE_DATA_DIR or pass --download)")
    y = y.reshape(-1, 1)
    dataset = TensorDataset(X, y)

    gdcore.manual_seed(args.seed)
    net = nn.Linear(5, 1)
    model = DistributedDataParallel(net)
    opt = optim.SGD(model.parameters(), lr=args.lr / 2)
    sampler = DistributedSampler(dataset, shuffle=True, seed=args.seed)
    loader = DataLoader(dataset, batch_size=args.batch_size // world, sampler=sampler)
    loss_fn = nn.MSELoss()
    log(f"{world} rank(s), global batch {args.batch_size} ({args.batch_size // world} per rank), "
        f"{len(loader)} steps per epoch")
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        dist.barrier()
        started = time.perf_counter()
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
        seconds = time.perf_counter() - started
        with gdcore.no_grad():
            full = loss_fn(net(X), y).item() / 2           # the chapter's squared_loss
        log(f"epoch {epoch + 1}: loss {full:.4f}, {seconds:.3f} s/epoch")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
