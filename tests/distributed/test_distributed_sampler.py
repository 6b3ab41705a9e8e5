"""DistributedSampler against torch.utils.data.DistributedSampler's documented assignment (the lists below are
worked out by hand from torch's algorithm: pad by wrapping to a multiple of num_replicas, or drop the tail with
drop_last; rank r takes positions r, r + num_replicas, ...), and its use through DataLoader(sampler=...)."""
import numpy as np
import pytest

import gdcore
from gdcore.data import DataLoader, DistributedSampler, TensorDataset

# (dataset length, num_replicas, drop_last) -> the index list of each rank, in order, without shuffling.
TORCH_LISTS = {
    (10, 3, False): [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]],      # 10 -> 12: pads with 0, 1
    (10, 3, True): [[0, 3, 6], [1, 4, 7], [2, 5, 8]],                 # 10 -> 9: drops 9
    (7, 2, False): [[0, 2, 4, 6], [1, 3, 5, 0]],
    (7, 2, True): [[0, 2, 4], [1, 3, 5]],
    (8, 4, False): [[0, 4], [1, 5], [2, 6], [3, 7]],
    (8, 4, True): [[0, 4], [1, 5], [2, 6], [3, 7]],
    (2, 5, False): [[0], [1], [0], [1], [0]],                          # padding longer than the data: repeats it
    (2, 5, True): [[], [], [], [], []],
    (5, 1, False): [[0, 1, 2, 3, 4]],
}


@pytest.mark.parametrize("key", list(TORCH_LISTS))
def test_index_lists_are_torchs(key):
    n, replicas, drop_last = key
    for rank, expected in enumerate(TORCH_LISTS[key]):
        sampler = DistributedSampler(list(range(n)), num_replicas=replicas, rank=rank, shuffle=False,
                                     drop_last=drop_last)
        assert list(sampler) == expected
        assert len(sampler) == len(expected)


def _torch_assignment(order, replicas, rank, drop_last):
    """torch's steps on a given order, written out as a plain loop."""
    n = len(order)
    per_rank = -(-(n - replicas) // replicas) if drop_last and n % replicas else -(-n // replicas)
    total = per_rank * replicas
    padded = list(order)
    while len(padded) < total:
        padded.append(order[(len(padded) - n) % n])
    return [padded[i] for i in range(rank, total, replicas)]


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (11, 4, True), (3, 5, False)])
def test_shuffled_lists_follow_torchs_assignment_of_a_seeded_permutation(n, replicas, drop_last):
    for epoch in (0, 1):
        order = gdcore.randperm(n, generator=gdcore.Generator(7 + epoch)).tolist()
        lists = []
        for rank in range(replicas):
            sampler = DistributedSampler(range(n), num_replicas=replicas, rank=rank, seed=7, drop_last=drop_last)
            sampler.set_epoch(epoch)
            lists.append(list(sampler))
            assert lists[-1] == _torch_assignment(order, replicas, rank, drop_last)
        if not drop_last:
            assert set(sum(lists, [])) == set(range(n))


def test_set_epoch_changes_the_order_and_the_seed_fixes_it():
    a = DistributedSampler(range(50), num_replicas=2, rank=0, seed=1)
    b = DistributedSampler(range(50), num_replicas=2, rank=0, seed=1)
    assert list(a) == list(b)
    b.set_epoch(1)
    assert list(a) != list(b)


def test_dataloader_with_a_sampler_yields_the_sampled_rows():
    X = gdcore.arange(20).reshape(10, 2)
    sampler = DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)
    loader = DataLoader(TensorDataset(X), batch_size=3, sampler=sampler)
    assert len(loader) == 2
    batches = [b[0].numpy() for b in loader]
    rows = np.arange(20).reshape(10, 2)
    assert np.array_equal(batches[0], rows[[1, 4, 7]]) and np.array_equal(batches[1], rows[[0]])


def test_bad_arguments():
    with pytest.raises(ValueError, match="Invalid rank 3"):
        DistributedSampler(range(4), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="num_replicas must be at least 1"):
        DistributedSampler(range(4), num_replicas=0, rank=0)
    with pytest.raises(TypeError, match="rank must be an int"):
        DistributedSampler(range(4), num_replicas=2, rank=1.0)
    with pytest.raises(TypeError, match="must have a length"):
        DistributedSampler(iter(range(4)), num_replicas=2, rank=0)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))                      # no process group in this process
    sampler = DistributedSampler(range(4), num_replicas=2, rank=0)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(TensorDataset(gdcore.zeros(4, 1)), sampler=sampler, shuffle=True)
