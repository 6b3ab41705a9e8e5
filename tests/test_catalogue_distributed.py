"""Bad-input catalogue of data-parallel training: DistributedSampler, DataLoader(sampler=), `gdcore launch`,
and gdcore.distributed / DistributedDataParallel called before init_process_group (these need mpi4py)."""
import importlib.util

import pytest

import gdcore as g
from catalogue import CommandFailed, bad, check, run_cli
from gdcore.data import DataLoader, DistributedSampler, TensorDataset

HAS_MPI4PY = importlib.util.find_spec("mpi4py") is not None


def _loader(**kwargs):
    return DataLoader(TensorDataset(g.zeros(4, 1)), **kwargs)


CASES = [
    bad("sampler-rank-too-big", lambda: DistributedSampler(range(4), num_replicas=2, rank=2), ValueError,
        "Invalid rank 2, rank should be in the interval [0, 1]"),
    bad("sampler-negative-rank", lambda: DistributedSampler(range(4), num_replicas=2, rank=-1), ValueError,
        "Invalid rank -1"),
    bad("sampler-no-replicas", lambda: DistributedSampler(range(4), num_replicas=0, rank=0), ValueError,
        "num_replicas must be at least 1, got 0"),
    bad("sampler-float-rank", lambda: DistributedSampler(range(4), num_replicas=2, rank=0.0), TypeError,
        "rank must be an int, got 0.0"),
    bad("sampler-bool-seed", lambda: DistributedSampler(range(4), num_replicas=2, rank=0, seed=True), TypeError,
        "seed must be an int"),
    bad("sampler-no-len", lambda: DistributedSampler(iter([1]), num_replicas=1, rank=0), TypeError,
        "dataset must have a length"),
    bad("sampler-no-group", lambda: DistributedSampler(range(4)), RuntimeError, "init_process_group"),
    bad("sampler-epoch-str", lambda: DistributedSampler(range(4), 1, 0).set_epoch("1"), TypeError,
        "epoch must be an int"),
    bad("loader-sampler-and-shuffle", lambda: _loader(sampler=DistributedSampler(range(4), 1, 0), shuffle=True),
        ValueError, "sampler option is mutually exclusive with shuffle"),
    bad("launch-no-program", lambda: run_cli(["launch", "-n", "2"]), CommandFailed,
        "exit 2: gdcore launch: error: give a script to run"),
    bad("launch-zero-ranks", lambda: run_cli(["launch", "-n", "0", "x.py"]), CommandFailed,
        "expected a positive number of ranks, got 0"),
    bad("launch-no-n", lambda: run_cli(["launch", "x.py"]), CommandFailed, "exit 2"),
    bad("launch-missing-hostfile", lambda: run_cli(["launch", "-n", "2", "--hostfile", "/no/such/hosts", "x.py"]),
        CommandFailed, "exit 1: gdcore launch: error: hostfile '/no/such/hosts' not found"),
]


def _dist():
    import gdcore.distributed as dist
    return dist


MPI_CASES = [
    bad("all-reduce-before-init", lambda: _dist().all_reduce(g.zeros(2)), RuntimeError,
        "the default process group is not initialized; call gdcore.distributed.init_process_group"),
    bad("rank-before-init", lambda: _dist().get_rank(), RuntimeError, "not initialized"),
    bad("barrier-before-init", lambda: _dist().barrier(), RuntimeError, "not initialized"),
    bad("ddp-before-init", lambda: g.nn.parallel.DistributedDataParallel(g.nn.Linear(2, 1)), RuntimeError,
        "DistributedDataParallel: the default process group is not initialized"),
    bad("backend-gloo", lambda: _dist().init_process_group("gloo"), ValueError, "use backend='mpi' (got 'gloo')"),
]


@pytest.mark.parametrize("call,error,words", CASES)
def test_bad_input(call, error, words, tmp_path):
    check(call, error, words, tmp_path)


@pytest.mark.skipif(not HAS_MPI4PY, reason='mpi4py not installed: pip install "gdcore[mpi]"')
@pytest.mark.parametrize("call,error,words", MPI_CASES)
def test_bad_input_with_mpi4py(call, error, words, tmp_path):
    check(call, error, words, tmp_path)
