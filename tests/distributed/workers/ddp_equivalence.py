"""Worker (any number of ranks): DDP on N ranks with global batch B trains exactly as one process on batch B.

Float64, SGD with momentum and Adam, two epochs of DistributedSampler shards (40 samples: padding on 3 ranks).
The reference is the same model trained in this process alone on the union of the ranks' shards of each step.
Also: every rank ends with identical bytes, .grad are views into the flat buckets (the same memory every step),
rank 0's buffers reach every rank, and no_sync() accumulates locally until the next synced backward.
"""
import hashlib
import os

import numpy as np

import gdcore
import gdcore.distributed as dist
from gdcore import nn
from gdcore.data import DataLoader, DistributedSampler, TensorDataset
from gdcore.nn.parallel import DistributedDataParallel
from ddp_model import make_net   # this folder: python puts a script's own folder on sys.path

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
print("netns", rank, os.readlink("/proc/self/ns/net"), flush=True)   # the two-host test reads it
rng = np.random.default_rng(5)
X = gdcore.from_numpy(rng.normal(size=(40, 5)))
y = gdcore.from_numpy(rng.normal(size=(40, 1)))
dataset = TensorDataset(X, y)
B = 12                                   # global batch; each rank takes B / world
per_rank = B // world


def same_bytes_everywhere(net):
    digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in net.parameters())).digest()
    mine = gdcore.from_numpy(np.frombuffer(digest, dtype=np.int64).copy())
    everyone = [gdcore.zeros(4, dtype=gdcore.int64) for _ in range(world)]
    dist.all_gather(everyone, mine)
    assert all(t.tolist() == mine.tolist() for t in everyone), "the ranks' parameters differ"


optimizers = {"sgd-momentum": lambda params: gdcore.optim.SGD(params, lr=0.05, momentum=0.9),
              "adam": lambda params: gdcore.optim.Adam(params, lr=0.01)}
for name, make_opt in optimizers.items():
    net = make_net(100 + rank, rank)                          # a different start on every rank...
    ddp = DistributedDataParallel(net, bucket_cap_mb=300 / 2**20)   # ~300 bytes: several buckets
    reference = make_net(100, rank)                           # ...DDP must take rank 0's
    reference.scale.fill_(1.0)
    assert net.scale.item() == 1.0, "rank 0's buffer was not broadcast"
    assert len(ddp._buckets) > 1 and list(ddp.state_dict())[0].startswith("module.")
    opt, ref_opt = make_opt(ddp.parameters()), make_opt(reference.parameters())
    grad_memory = None
    for epoch in range(2):
        samplers = [DistributedSampler(dataset, num_replicas=world, rank=r, shuffle=True, seed=3) for r in range(world)]
        for s in samplers:
            s.set_epoch(epoch)
        shards = [list(s) for s in samplers]
        loader = DataLoader(dataset, batch_size=per_rank, sampler=samplers[rank])
        for k, (xb, yb) in enumerate(loader):
            opt.zero_grad()
            nn.functional.mse_loss(ddp(xb), yb).backward()
            opt.step()
            rows = gdcore.tensor(sum((shard[k * per_rank:(k + 1) * per_rank] for shard in shards), []))
            ref_opt.zero_grad()
            nn.functional.mse_loss(reference(gdcore.index_select(X, 0, rows)), gdcore.index_select(y, 0, rows)).backward()
            ref_opt.step()
            memory = [p.grad.data_ptr() for p in net.parameters()]
            assert grad_memory in (None, memory), "the gradients moved out of their buckets"
            grad_memory = memory
    for bucket in ddp._buckets:                  # every .grad is a view into its bucket's memory
        start, end = bucket.flat.data_ptr(), bucket.flat.data_ptr() + bucket.array.nbytes
        assert all(start <= p.grad.data_ptr() < end and p.grad._is_view for p in bucket.params)
    for (pname, p), q in zip(net.named_parameters(), reference.parameters()):
        gap = np.abs(p.detach().numpy() - q.detach().numpy()).max()
        assert gap <= 1e-12, f"{name}: {pname} differs from one process by {gap}"
    same_bytes_everywhere(net)

# no_sync: two local backward passes, then a synced one, average the sum of all three.
net = make_net(7, rank)
ddp = DistributedDataParallel(net)
reference = make_net(7, rank)
reference.scale.fill_(1.0)
micro = [list(range(i * B, (i + 1) * B)) for i in range(3)]
with ddp.no_sync():
    for rows in micro[:2]:
        mine = gdcore.tensor(rows[rank * per_rank:(rank + 1) * per_rank])
        nn.functional.mse_loss(ddp(gdcore.index_select(X, 0, mine)), gdcore.index_select(y, 0, mine)).backward()
local = [p.grad.numpy().copy() for p in net.parameters()]
mine = gdcore.tensor(micro[2][rank * per_rank:(rank + 1) * per_rank])
nn.functional.mse_loss(ddp(gdcore.index_select(X, 0, mine)), gdcore.index_select(y, 0, mine)).backward()
for rows in micro:
    r = gdcore.tensor(rows)
    nn.functional.mse_loss(reference(gdcore.index_select(X, 0, r)), gdcore.index_select(y, 0, r)).backward()
for p, q, before in zip(net.parameters(), reference.parameters(), local):
    assert np.abs(p.grad.numpy() - q.grad.numpy()).max() <= 1e-12
    assert world == 1 or np.abs(before - q.grad.numpy()).max() > 1e-6     # no_sync really did not average
print("ok", rank, flush=True)
