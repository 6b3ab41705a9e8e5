"""Dataset tools of everyday torch code (gdcore/data/dataset.py, sampler.py, dataloader.py):
random_split, Subset, ConcatDataset, IterableDataset through the DataLoader, ChainDataset and
WeightedRandomSampler. Expected values are written out by hand or counted with numpy."""
import numpy as np
import pytest

import gdcore
from gdcore.data import (
    ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset, Subset, SubsetRandomSampler, TensorDataset,
    WeightedRandomSampler, default_collate, get_worker_info, random_split,
)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i

    def __len__(self):
        return self.n


class Count(IterableDataset):
    def __init__(self, n, sized=False):
        self.n, self.sized = n, sized

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        if not self.sized:
            return super().__len__()
        return self.n


def test_random_split_lengths_and_fractions():
    parts = random_split(Squares(10), [3, 7], generator=gdcore.Generator(0))
    assert [len(p) for p in parts] == [3, 7] and all(isinstance(p, Subset) for p in parts)
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    assert [parts[0][i] for i in range(3)] == [j * j for j in parts[0].indices]
    # fractions: floor(11 * f) each, the remainder one by one from the first split (torch's rule)
    assert [len(p) for p in random_split(range(11), [0.3, 0.3, 0.4])] == [4, 3, 4]
    assert [len(p) for p in random_split(range(10), [0.3, 0.3, 0.4])] == [3, 3, 4]
    a = random_split(range(20), [0.5, 0.5], generator=gdcore.Generator(7))
    b = random_split(range(20), [0.5, 0.5], generator=gdcore.Generator(7))
    assert a[0].indices == b[0].indices  # the same generator seed, the same split
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(2), [1.0, 0.0])


def test_subset_and_concat():
    s = Subset(Squares(6), [5, 0, 2])
    assert len(s) == 3 and s[0] == 25 and s[[1, 2]] == [0, 4]
    c = ConcatDataset([Squares(3), Squares(2)])
    assert len(c) == 5 and c.cumulative_sizes == [3, 5]
    assert [c[i] for i in range(5)] == [0, 1, 4, 0, 1] and c[-1] == 1 and c[-5] == 0
    assert len(Squares(2) + Squares(4)) == 6
    loader = DataLoader(c, batch_size=2)
    assert [b.tolist() for b in loader] == [[0, 1], [4, 0], [1]]
    t = TensorDataset(gdcore.arange(4.0).reshape(4, 1), gdcore.arange(4))
    x, y = next(iter(DataLoader(Subset(t, [3, 1]), batch_size=2)))
    assert x.tolist() == [[3.0], [1.0]] and y.tolist() == [3, 1]


def test_iterable_dataset_in_the_loader():
    assert [b.tolist() for b in DataLoader(Count(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Count(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert list(DataLoader(Count(3), batch_size=None)) == [0, 1, 2]
    assert len(DataLoader(Count(7, sized=True), batch_size=3)) == 3
    assert len(DataLoader(Count(7, sized=True), batch_size=3, drop_last=True)) == 2
    with pytest.raises(TypeError, match="has no len"):
        len(DataLoader(Count(7), batch_size=3))
    assert "stream" in repr(DataLoader(Count(2)))
    assert [b.tolist() for b in DataLoader(ChainDataset([Count(2), Count(3)]), batch_size=4)] == [[0, 1, 0, 1], [2]]
    assert list(Count(2) + Count(1)) == [0, 1, 0]
    got = list(DataLoader(Count(4), batch_size=2, collate_fn=lambda b: sum(b)))
    assert got == [1, 5]


class Shards(IterableDataset):
    """Worker i of n yields i, i + n, ... < 11: the split torch's docs recommend."""

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, 11, step))


class Failing(IterableDataset):
    def __iter__(self):
        yield 1
        raise KeyError("bad sample")


class Endless(IterableDataset):
    def __iter__(self):
        i = 0
        while True:
            yield i
            i += 1


def test_iterable_dataset_with_workers_as_torch():
    # each worker iterates the whole dataset; batches come from worker 0, 1, 0, 1, ... (torch's order)
    got = [b.tolist() for b in DataLoader(Count(7), batch_size=3, num_workers=2)]
    assert got == [[0, 1, 2], [0, 1, 2], [3, 4, 5], [3, 4, 5], [6], [6]]
    got = [b.tolist() for b in DataLoader(Shards(), batch_size=2, num_workers=3)]
    assert got == [[0, 3], [1, 4], [2, 5], [6, 9], [7, 10], [8]]
    assert sorted(v for b in got for v in b) == list(range(11))
    assert list(DataLoader(Count(2), batch_size=None, num_workers=2)) == [0, 0, 1, 1]
    ids = [b.tolist() for b in DataLoader(Count(2), batch_size=2, num_workers=2,
                                          worker_init_fn=lambda i: None)]
    assert ids == [[0, 1], [0, 1]]


def test_iterable_workers_reraise_and_stop_early():
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 0"):
        list(DataLoader(Failing(), batch_size=2, num_workers=1))
    for i, batch in enumerate(DataLoader(Endless(), batch_size=4, num_workers=2)):  # an endless stream: break out
        if i == 5:
            break
    assert batch.tolist() == [8, 9, 10, 11]


def test_weighted_random_sampler_frequencies():
    weights = [0.1, 0.0, 0.6, 0.3]
    sampler = WeightedRandomSampler(weights, 20000, generator=gdcore.Generator(1))
    draws = np.array(list(sampler))
    assert len(sampler) == 20000 and draws.shape == (20000,)
    freq = np.bincount(draws, minlength=4) / draws.size
    np.testing.assert_allclose(freq, weights, atol=0.015)
    assert list(WeightedRandomSampler(weights, 5, generator=gdcore.Generator(3))) == \
        list(WeightedRandomSampler(weights, 5, generator=gdcore.Generator(3)))


def test_weighted_random_sampler_without_replacement():
    weights = gdcore.tensor([1.0, 0.0, 5.0, 2.0])
    for seed in range(20):
        draws = list(WeightedRandomSampler(weights, 3, replacement=False, generator=gdcore.Generator(seed)))
        assert sorted(draws) == [0, 2, 3]
    # first draw from the weights: index 2 comes first about 5/8 of the time
    firsts = [list(WeightedRandomSampler([1.0, 5.0, 2.0], 1, replacement=False, generator=gdcore.Generator(s)))[0]
              for s in range(2000)]
    np.testing.assert_allclose(np.bincount(firsts, minlength=3) / 2000, [1 / 8, 5 / 8, 2 / 8], atol=0.04)
    loader = DataLoader(Squares(4), batch_size=2, sampler=WeightedRandomSampler([0, 1, 0, 0], 4))
    assert [b.tolist() for b in loader] == [[1, 1], [1, 1]]


def test_subset_random_sampler_and_default_collate_are_exported():
    drawn = list(SubsetRandomSampler([4, 7, 9], generator=gdcore.Generator(0)))
    assert sorted(drawn) == [4, 7, 9]
    assert default_collate([1, 2]).tolist() == [1, 2]
    from gdcore.utils.data import WeightedRandomSampler as W, random_split as r  # torch's import path
    assert W is WeightedRandomSampler and r is random_split
