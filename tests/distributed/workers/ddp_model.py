"""The model the DDP equivalence workers (ddp_equivalence.py, ddp_compiled.py) train: float64, two Linear
layers and a buffer that differs per rank (DDP must broadcast rank 0's), built from a seed."""
import gdcore
from gdcore import nn


class Net(nn.Module):
    def __init__(self, rank):
        super().__init__()
        self.hidden = nn.Linear(5, 16)
        self.out = nn.Linear(16, 1)
        self.register_buffer("scale", gdcore.full((1,), 1.0 + 0.5 * rank, dtype=gdcore.float64))

    def forward(self, x):
        return self.out(gdcore.tanh(self.hidden(x))) * self.scale


def make_net(seed, rank):
    gdcore.manual_seed(seed)
    return Net(rank).to(gdcore.float64)
