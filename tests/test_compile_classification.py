"""Compiled classification steps (issue 12): an MLP with cross_entropy and SGD or Adam, and d2l's LeNet
(sigmoid, average pooling, cross_entropy), capture and run lowered, over whole epochs with run_epoch, and
give the eager step's bytes."""
import pytest

import gdcore
from gdcore import nn, optim
from gdcore.data import DataLoader, TensorDataset, make_blobs
from gdcore.nn import functional as F
from gdcore.workflows.classification import lenet
from epoch_runs import as_bytes, epoch_losses, lowered_program


def make_step(model, optimizer):
    def step(x, y):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss
    return step


@pytest.mark.parametrize("make_optimizer", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                                            lambda ps: optim.Adam(ps, lr=0.01)], ids=["sgd", "adam"])
def test_mlp_epochs_with_run_epoch_are_lowered_and_bit_identical(make_optimizer):
    X, y = make_blobs(96, centers=5, n_features=20, seed=4)
    runs = []
    for compiled in (False, True):
        gdcore.manual_seed(0)
        model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 5))
        step = make_step(model, make_optimizer(model.parameters()))
        loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, generator=gdcore.Generator(1))
        losses, run = epoch_losses(step, loader, compiled, 3)
        runs.append((as_bytes([losses]), as_bytes(model.parameters())))
    assert runs[0] == runs[1]
    assert lowered_program(run).lowering == "lowered"


def test_d2l_lenet_with_average_pooling_is_lowered_and_bit_identical():
    gen = gdcore.Generator(6)
    batches = [(gdcore.rand(4, 1, 28, 28, generator=gen), gdcore.randint(0, 10, (4,), generator=gen))
               for _ in range(4)]
    runs = []
    for compiled in (False, True):
        gdcore.manual_seed(0)
        model = lenet()
        step = make_step(model, optim.SGD(model.parameters(), lr=0.9))
        run = gdcore.compile(step) if compiled else step
        losses = [run(x, y) for x, y in batches]
        runs.append((as_bytes(losses), as_bytes(model.parameters())))
    assert runs[0] == runs[1]
    assert lowered_program(run).lowering == "lowered"
