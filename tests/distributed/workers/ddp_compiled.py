"""Worker (any number of ranks): a DistributedDataParallel training step under gdcore.compile.

Float64, SGD with momentum and Adam, two epochs of DistributedSampler shards (40 samples: padding on 3 ranks,
a last partial batch on every rank). Three copies of the same model train side by side on every rank:
eager DDP, the same step compiled and called per batch, and the step compiled and run by ``run_epoch``; a
fourth, plain model trains in this process alone on the union of the ranks' batches. The compiled copies must
hold exactly the eager copy's bytes after every epoch, all of them must equal the one-process model within 1e-12,
and every rank must end with identical bytes. The replays must really be lowered (or, with
GDCORE_COMPILE_LOWER=0, op by op). The eager and per-batch copies call MPI directly from C++; the run_epoch
copy goes through Python (distributed/native.py's two ways), so its bytes also show the two ways agree.
"""
import hashlib
import os

import numpy as np

import gdcore
import gdcore.distributed as dist
from gdcore import nn
from gdcore.data import DataLoader, DistributedSampler, TensorDataset
from gdcore.distributed.native import Collectives
from gdcore.nn.parallel import DistributedDataParallel
from ddp_model import make_net   # this folder: python puts a script's own folder on sys.path

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
lowered = os.environ.get("GDCORE_COMPILE_LOWER", "1") != "0"
direct = os.environ.get("GDCORE_DISTRIBUTED_NATIVE", "1") != "0"
rng = np.random.default_rng(11)
X = gdcore.from_numpy(rng.normal(size=(40, 5)))
y = gdcore.from_numpy(rng.normal(size=(40, 1)))
dataset = TensorDataset(X, y)
B = 12                                   # global batch; each rank takes B / world
per_rank = B // world


def param_bytes(net):
    return b"".join(p.detach().numpy().tobytes() for p in net.parameters())


def same_bytes_everywhere(net):
    digest = hashlib.sha256(param_bytes(net)).digest()
    mine = gdcore.from_numpy(np.frombuffer(digest, dtype=np.int64).copy())
    everyone = [gdcore.zeros(4, dtype=gdcore.int64) for _ in range(world)]
    dist.all_gather(everyone, mine)
    assert all(t.tolist() == mine.tolist() for t in everyone), "the ranks' parameters differ"


def make_step(model, opt):
    def train_step(xb, yb):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        opt.step()
        return loss
    return train_step


optimizers = {"sgd-momentum": lambda params: gdcore.optim.SGD(params, lr=0.05, momentum=0.9),
              "adam": lambda params: gdcore.optim.Adam(params, lr=0.01)}
for name, make_opt in optimizers.items():
    copies = {}
    for kind in ("eager", "compiled", "run_epoch"):
        net = make_net(100 + rank, rank)                            # a different start on every rank...
        ddp = DistributedDataParallel(net, bucket_cap_mb=300 / 2**20)   # ~300 bytes: several buckets
        assert ddp._collectives.direct == direct
        if kind == "run_epoch":
            object.__setattr__(ddp, "_collectives", Collectives(ddp._pg, root=0, force_python=True))
        opt = make_opt(ddp.parameters())
        step = make_step(ddp, opt)
        copies[kind] = (net, step if kind == "eager" else gdcore.compile(step))
    reference = make_net(100, rank)                                 # ...DDP must take rank 0's
    reference.scale.fill_(1.0)
    ref_opt = make_opt(reference.parameters())
    for epoch in range(2):
        samplers = [DistributedSampler(dataset, num_replicas=world, rank=r, shuffle=True, seed=3) for r in range(world)]
        for s in samplers:
            s.set_epoch(epoch)
        shards = [list(s) for s in samplers]
        loader = DataLoader(dataset, batch_size=per_rank, sampler=samplers[rank])
        losses = {"eager": [], "compiled": []}
        for k, (xb, yb) in enumerate(loader):
            for kind in ("eager", "compiled"):
                losses[kind].append(copies[kind][1](xb, yb).item())
            rows = gdcore.tensor(sum((shard[k * per_rank:(k + 1) * per_rank] for shard in shards), []))
            ref_opt.zero_grad()
            nn.functional.mse_loss(reference(gdcore.index_select(X, 0, rows)),
                                   gdcore.index_select(y, 0, rows)).backward()
            ref_opt.step()
        epoch_losses = copies["run_epoch"][1].run_epoch(loader).tolist()
        assert losses["compiled"] == losses["eager"] == epoch_losses, f"{name}: the losses differ from eager DDP"
        eager_bytes = param_bytes(copies["eager"][0])
        for kind in ("compiled", "run_epoch"):
            assert param_bytes(copies[kind][0]) == eager_bytes, f"{name}: {kind} DDP differs from eager DDP"
    for kind, (net, step) in copies.items():
        for (pname, p), q in zip(net.named_parameters(), reference.parameters()):
            gap = np.abs(p.detach().numpy() - q.detach().numpy()).max()
            assert gap <= 1e-12, f"{name}, {kind}: {pname} differs from one process by {gap}"
        same_bytes_everywhere(net)
        if kind != "eager":
            programs = [c.program for c in step._captures.values()]
            assert len(programs) == 2, f"{kind}: expected the full and the last partial batch's captures"
            assert all("all_reduce" in p.describe() for p in programs)
            full = max(programs, key=lambda p: p.replays)
            want = "lowered" if lowered else "off (GDCORE_COMPILE_LOWER=0)"
            assert full.lowering == want, f"{name}, {kind}: {full.lowering}"
print("ok", rank, flush=True)
