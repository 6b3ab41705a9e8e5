"""Data-parallel classification: an MLP learns three classes of points in the plane, on N MPI ranks.

The loss is softmax cross-entropy written out with differentiable ops (log-sum-exp minus the true class's
logit, averaged), so it runs on any gdcore build. Each rank trains on its DistributedSampler share of every
batch; DistributedDataParallel averages the gradients; rank 0 prints the loss and the accuracy on held-out
points each epoch.

    gdcore launch -n 2 examples/distributed_classification.py
    python examples/distributed_classification.py               # one process
"""
import argparse
import time

import numpy as np

import gdcore
import gdcore.distributed as dist
from gdcore import nn, optim
from gdcore.data import DataLoader, DistributedSampler, TensorDataset
from gdcore.nn.parallel import DistributedDataParallel


def three_spirals(n: int, seed: int):
    """(X (n, 2) float32, labels (n,) int64): three interleaved noisy spiral arms."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=n)
    radius = rng.uniform(0.1, 1.0, size=n)
    angle = 4.0 * radius + labels * (2 * np.pi / 3) + rng.normal(scale=0.4, size=n)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]).astype(np.float32)
    return gdcore.from_numpy(X), gdcore.from_numpy(labels.astype(np.int64))


def cross_entropy(logits, onehot):
    """mean over rows of logsumexp(logits) - logits[true class]; logits and onehot (N, C)."""
    shift = logits.detach().max(1, True)[0]                  # for exp's range only; the gradient is unchanged
    logsumexp = gdcore.log(gdcore.exp(logits - shift).sum(1, True)) + shift
    return (logsumexp - (logits * onehot).sum(1, True)).mean()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=6000)
    parser.add_argument("--batch-size", type=int, default=64, help="global batch (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    log = print if rank == 0 else (lambda *a, **k: None)
    X, labels = three_spirals(args.samples, args.seed)       # the same points on every rank
    X_test, labels_test = three_spirals(1000, args.seed + 1)
    onehot = gdcore.from_numpy(np.eye(3, dtype=np.float32)[labels.numpy()])
    dataset = TensorDataset(X, onehot)

    gdcore.manual_seed(args.seed)
    net = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))
    model = DistributedDataParallel(net)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    sampler = DistributedSampler(dataset, shuffle=True, seed=args.seed)
    loader = DataLoader(dataset, batch_size=max(1, args.batch_size // world), sampler=sampler, drop_last=True)
    log(f"{world} rank(s), global batch {max(1, args.batch_size // world) * world}, {len(loader)} steps per epoch")
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        dist.barrier()
        started, total = time.perf_counter(), 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item()
        seconds = time.perf_counter() - started
        mean_loss = gdcore.tensor([total / len(loader)], dtype=gdcore.float64)
        dist.all_reduce(mean_loss, op=dist.ReduceOp.AVG)
        with gdcore.no_grad():
            accuracy = float(np.mean(net(X_test).argmax(1).numpy() == labels_test.numpy()))
        log(f"epoch {epoch + 1}: loss {mean_loss.item():.4f}, test accuracy {accuracy:.3f}, {seconds:.3f} s/epoch")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
