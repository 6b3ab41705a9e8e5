"""Worker: the ranks train a compiled DDP step whose model calls a custom autograd.Function (Python that runs
at every replay). At the fourth call it raises on rank 1, before that rank's all-reduce, while the other ranks
wait inside theirs (in MPI, without the GIL). The excepthook must end the whole job with rank 1's traceback."""
import time

import gdcore
import gdcore.distributed as dist
from gdcore import nn
from gdcore.nn.parallel import DistributedDataParallel

dist.init_process_group("mpi")
rank = dist.get_rank()
calls = 0


class Double(gdcore.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        global calls
        calls += 1
        if rank == 1 and calls == 4:
            raise ValueError("deliberate failure inside a compiled step on rank 1")
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 1)

    def forward(self, x):
        return Double.apply(self.linear(x))


ddp = DistributedDataParallel(Net())
opt = gdcore.optim.SGD(ddp.parameters(), lr=0.1)


@gdcore.compile
def step(x, y):
    opt.zero_grad()
    loss = nn.functional.mse_loss(ddp(x), y)
    loss.backward()
    opt.step()
    return loss


for _ in range(6):
    step(gdcore.ones(4, 3), gdcore.ones(4, 1))
time.sleep(120)
