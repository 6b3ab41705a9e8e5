"""Worker (any number of ranks): every collective against numpy, the agreement check's errors on every rank,
groups, DistributedSampler's defaults, and a DDP step under gdcore.compile that records its all-reduce."""
import numpy as np

import gdcore
import gdcore.distributed as dist
from gdcore import nn
from gdcore.distributed import ReduceOp


def expect_error(kind, text, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except kind as err:
        assert text in str(err), f"{kind.__name__} without {text!r}: {err}"
        return err
    raise AssertionError(f"{fn.__name__} did not raise {kind.__name__} ({text!r})")


def close(t, expected, rtol=1e-12):
    got = t.numpy()
    assert got.shape == np.shape(expected) and np.allclose(got, expected, rtol=rtol, atol=0), (got, expected)


expect_error(RuntimeError, "not initialized", dist.all_reduce, gdcore.zeros(2))
dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
expect_error(RuntimeError, "twice", dist.init_process_group, "mpi")
data = np.random.default_rng(11).normal(size=(world, 3, 4)) + 2.0      # the same numbers on every rank

for dtype, npdt in ((gdcore.float64, np.float64), (gdcore.float32, np.float32)):
    rtol = 1e-12 if npdt is np.float64 else 1e-6
    expected = {ReduceOp.SUM: data.sum(0), ReduceOp.AVG: data.sum(0) / world, ReduceOp.MAX: data.max(0),
                ReduceOp.MIN: data.min(0), ReduceOp.PRODUCT: data.prod(0)}
    for op, want in expected.items():
        t = gdcore.tensor(data[rank].astype(npdt))
        address = t.data_ptr()
        dist.all_reduce(t, op=op)
        assert t.data_ptr() == address          # in place
        close(t, want.astype(npdt), rtol)
    t = gdcore.tensor(data[rank].astype(npdt))
    dist.broadcast(t, src=world - 1)
    close(t, data[world - 1].astype(npdt), 0)
    out = [gdcore.zeros(3, 4, dtype=dtype) for _ in range(world)]
    dist.all_gather(out, gdcore.tensor(data[rank].astype(npdt)))
    for r in range(world):
        close(out[r], data[r].astype(npdt), 0)
    flat = gdcore.zeros(world * 3, 4, dtype=dtype)
    dist.all_gather_into_tensor(flat, gdcore.tensor(data[rank].astype(npdt)))
    close(flat, data.reshape(world * 3, 4).astype(npdt), 0)
    t = gdcore.tensor(data[rank].astype(npdt))
    dist.reduce(t, dst=world - 1, op=ReduceOp.MAX)
    close(t, (data.max(0) if rank == world - 1 else data[rank]).astype(npdt), 0)
    t = gdcore.tensor(data[rank].astype(npdt))
    dist.reduce(t, dst=0, op=ReduceOp.AVG)
    close(t, (data.sum(0) / world if rank == 0 else data[rank]).astype(npdt), rtol)
    got = [gdcore.zeros(3, 4, dtype=dtype) for _ in range(world)] if rank == 0 else None
    dist.gather(gdcore.tensor(data[rank].astype(npdt)), got, dst=0)
    if rank == 0:
        for r in range(world):
            close(got[r], data[r].astype(npdt), 0)
    t = gdcore.zeros(3, 4, dtype=dtype)
    parts = [gdcore.tensor(data[r].astype(npdt)) for r in range(world)] if rank == world - 1 else None
    dist.scatter(t, parts, src=world - 1)
    close(t, data[rank].astype(npdt), 0)

t = gdcore.tensor(rank + 1, dtype=gdcore.int64)                       # 0-d, integer
dist.all_reduce(t)
assert t.item() == world * (world + 1) // 2

# Mismatches raise the same error on every rank and send nothing.
expect_error(ValueError, "rank 0: float32 (3,)", dist.all_reduce, gdcore.zeros(3 if rank == 0 else 4))
expect_error(ValueError, "different tensors", dist.all_reduce,
             gdcore.zeros(3, dtype=gdcore.float64 if rank == 0 else gdcore.float32))
expect_error(ValueError, "different tensors", dist.all_reduce, gdcore.zeros(3),
             op=ReduceOp.MAX if rank == 0 else ReduceOp.SUM)
expect_error(ValueError, "src", dist.broadcast, gdcore.zeros(2), src=rank)
bad_list = [gdcore.zeros(2)] * (world + (1 if rank == 0 else 0))
expect_error(ValueError, "one tensor per rank" if rank == 0 else "rank 0 passed invalid arguments",
             dist.all_gather, bad_list, gdcore.zeros(2))
expect_error(TypeError, "ReduceOp.AVG needs a floating-point", dist.all_reduce, gdcore.zeros(2, dtype=gdcore.int64),
             op=ReduceOp.AVG)
expect_error(ValueError, "contiguous", dist.all_reduce, gdcore.zeros(3, 4).t())
expect_error(TypeError, "gdcore.Tensor", dist.all_reduce, np.zeros(3))
expect_error(ValueError, "not a rank of this group", dist.broadcast, gdcore.zeros(2), src=world)
expect_error(TypeError, "ReduceOp", dist.all_reduce, gdcore.zeros(2), op="sum")
t = gdcore.ones(5)                                                     # nothing stray is left in flight
dist.all_reduce(t)
close(t, np.full(5, float(world), np.float32), 0)

# Groups: ranks 0 and world-1; src/dst are world ranks.
group = dist.new_group([0, world - 1])
if rank in (0, world - 1):
    assert dist.get_world_size(group) == 2 and dist.get_rank(group) == (0 if rank == 0 else 1)
    t = gdcore.full((2,), float(rank))
    dist.all_reduce(t, group=group)
    close(t, np.full(2, float(world - 1), np.float32), 0)
    t = gdcore.full((2,), float(rank))
    dist.broadcast(t, src=world - 1, group=group)
    close(t, np.full(2, float(world - 1), np.float32), 0)
else:
    assert group is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(group) == -1

sampler = gdcore.data.DistributedSampler(list(range(10)))
assert (sampler.num_replicas, sampler.rank) == (world, rank)

# Different models on different ranks: DDP refuses on every rank before any gradient is averaged.
expect_error(ValueError, "the ranks' models differ", nn.parallel.DistributedDataParallel,
             nn.Linear(3, 2 if rank == 0 else 1))

# DDP inside gdcore.compile: the all-reduce is a step of the captured program (ddp_compiled.py checks the numbers).
net = nn.Linear(3, 1)
ddp = nn.parallel.DistributedDataParallel(net)
opt = gdcore.optim.SGD(ddp.parameters(), lr=0.1)


def train_step(X, y):
    opt.zero_grad()
    loss = nn.functional.mse_loss(ddp(X), y)
    loss.backward()
    opt.step()
    return loss


compiled = gdcore.compile(train_step)
for _ in range(3):
    compiled(gdcore.ones(4, 3), gdcore.ones(4, 1))
assert "all_reduce" in next(iter(compiled._captures.values())).program.describe()
train_step(gdcore.ones(4, 3), gdcore.ones(4, 1))                      # eager DDP still works afterwards
dist.barrier()
dist.destroy_process_group()
assert not dist.is_initialized()
# The compiled step holds its communicator's collectives: after the group is gone they raise, never touch MPI.
expect_error(RuntimeError, "its process group was destroyed", compiled, gdcore.ones(4, 3), gdcore.ones(4, 1))
print("ok", rank, flush=True)
