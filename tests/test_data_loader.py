"""Dataset, TensorDataset, DataLoader and default_collate (gdcore/data/dataset.py, dataloader.py).

Expected batches come from numpy indexing of the source arrays and plain-Python
counting, never from the loader itself.
"""
import math

import numpy as np
import pytest

import gdcore
from gdcore.data import DataLoader, Dataset, TensorDataset, default_collate
from gdcore.data import dataloader as dataloader_module


def _table(n, d=3):
    features = np.arange(n * d, dtype=np.float32).reshape(n, d)
    labels = np.arange(n, dtype=np.int64) * 10
    return features, labels, TensorDataset(gdcore.from_numpy(features), gdcore.from_numpy(labels))


def _epoch_ids(loader):
    """The label of every sample visited, batch by batch (labels are 10 * row index)."""
    return [[int(v) // 10 for v in batch[1].tolist()] for batch in loader]


# ---- TensorDataset ----------------------------------------------------------------------

def test_tensor_dataset_rows_and_len():
    features, labels, ds = _table(5)
    assert len(ds) == 5
    x, y = ds[3]
    np.testing.assert_array_equal(x.numpy(), features[3])
    assert y.item() == 30


@pytest.mark.parametrize("tensors, error, words", [
    ((), ValueError, "at least one tensor"),
    ((gdcore.zeros(4, 2), gdcore.zeros(3)), ValueError, "(4, 2), (3,)"),
    ((gdcore.zeros(()),), ValueError, "0-d"),
    ((gdcore.zeros(3), [1, 2, 3]), TypeError, "argument 1 is a list"),
])
def test_tensor_dataset_rejects_bad_tensors(tensors, error, words):
    with pytest.raises(error, match=None) as info:
        TensorDataset(*tensors)
    assert words in str(info.value)


def test_dataset_is_abstract():
    class NoLen(Dataset):
        def __getitem__(self, i):
            return i

    with pytest.raises(TypeError, match="abstract"):
        NoLen()


# ---- DataLoader: coverage, order, lengths -------------------------------------------------

@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 1, False), (10, 3, False), (10, 3, True), (10, 10, False),
                                                      (10, 15, False), (10, 15, True), (7, 2, True), (0, 4, False)])
def test_len_and_batch_sizes(n, batch_size, drop_last):
    _, _, ds = _table(n)
    loader = DataLoader(ds, batch_size=batch_size, drop_last=drop_last)
    expected_len = n // batch_size if drop_last else math.ceil(n / batch_size)
    sizes = [len(batch[0]) for batch in loader]
    assert len(loader) == expected_len == len(sizes)
    full, rest = divmod(n, batch_size)
    assert sizes == [batch_size] * full + ([rest] if rest and not drop_last else [])


def test_batches_hold_the_right_rows_in_order_without_shuffle():
    features, labels, ds = _table(7)
    batches = list(DataLoader(ds, batch_size=3))
    assert all(isinstance(b, list) and len(b) == 2 for b in batches)
    for start, (x, y) in zip(range(0, 7, 3), batches):
        assert x.dtype == gdcore.float32 and y.dtype == gdcore.int64
        np.testing.assert_array_equal(x.numpy(), features[start:start + 3])
        np.testing.assert_array_equal(y.numpy(), labels[start:start + 3])


@pytest.mark.parametrize("batch_size", [1, 4, 10, 64])
def test_shuffle_visits_every_sample_exactly_once_per_epoch(batch_size):
    features, labels, ds = _table(50)
    loader = DataLoader(ds, batch_size=batch_size, shuffle=True, generator=gdcore.Generator(7))
    for _ in range(3):
        seen = []
        for x, y in loader:
            rows = [int(v) // 10 for v in y.tolist()]
            np.testing.assert_array_equal(x.numpy(), features[rows])  # features travel with their labels
            seen += rows
        assert sorted(seen) == list(range(50))


def test_shuffle_drop_last_visits_distinct_samples():
    _, _, ds = _table(50)
    seen = sum(_epoch_ids(DataLoader(ds, batch_size=8, shuffle=True, drop_last=True)), [])
    assert len(seen) == 48 and len(set(seen)) == 48


def test_shuffle_is_reproducible_with_a_seed_and_new_each_epoch():
    _, _, ds = _table(40)
    first = DataLoader(ds, batch_size=6, shuffle=True, generator=gdcore.Generator(123))
    second = DataLoader(ds, batch_size=6, shuffle=True, generator=gdcore.Generator(123))
    epochs_a = [_epoch_ids(first) for _ in range(3)]
    epochs_b = [_epoch_ids(second) for _ in range(3)]
    assert epochs_a == epochs_b
    assert epochs_a[0] != epochs_a[1] != epochs_a[2]
    assert sum(epochs_a[0], []) != list(range(40))  # actually shuffled
    other = DataLoader(ds, batch_size=6, shuffle=True, generator=gdcore.Generator(124))
    assert _epoch_ids(other) != epochs_a[0]


def test_shuffle_order_is_the_generators_randperm():
    _, _, ds = _table(12)
    order = gdcore.randperm(12, generator=gdcore.Generator(5)).tolist()
    visited = sum(_epoch_ids(DataLoader(ds, batch_size=5, shuffle=True, generator=gdcore.Generator(5))), [])
    assert visited == order


def test_default_generator_follows_manual_seed():
    _, _, ds = _table(30)
    loader = DataLoader(ds, batch_size=4, shuffle=True)
    gdcore.manual_seed(99)
    a = _epoch_ids(loader)
    gdcore.manual_seed(99)
    assert _epoch_ids(loader) == a


def test_tensor_dataset_batch_is_one_gather_call(monkeypatch):
    _, _, ds = _table(25)
    calls = []
    real = dataloader_module._core.gather_rows

    def counting(tensors, index):
        calls.append(len(index))
        return real(tensors, index)

    monkeypatch.setattr(dataloader_module._core, "gather_rows", counting)
    loader = DataLoader(ds, batch_size=4, shuffle=True)
    batches = list(loader)
    assert calls == [4] * 6 + [1] and len(batches) == 7


def test_gather_rows_binding_matches_numpy_take():
    a = np.arange(24, dtype=np.float64).reshape(6, 2, 2)
    b = np.arange(6, dtype=np.int64)
    index = [5, 0, 0, 3]
    out = gdcore._core.gather_rows([gdcore.from_numpy(a), gdcore.from_numpy(b)], gdcore.tensor(index))
    np.testing.assert_array_equal(out[0].numpy(), a[index])
    np.testing.assert_array_equal(out[1].numpy(), b[index])
    with pytest.raises(IndexError, match="out of bounds"):
        gdcore._core.gather_rows([gdcore.from_numpy(b)], gdcore.tensor([6]))


# ---- generic datasets and collate ------------------------------------------------------------

class Squares(Dataset):
    """Sample i is (tensor [i, i*i] as float32, float i / 2, the string 'i')."""

    def __init__(self, n):
        self.n = n
        self.reads = 0

    def __getitem__(self, i):
        self.reads += 1
        return gdcore.tensor([float(i), float(i * i)]), i / 2, str(i)

    def __len__(self):
        return self.n


def test_generic_dataset_is_read_per_sample_and_collated():
    ds = Squares(5)
    batches = list(DataLoader(ds, batch_size=2))
    assert ds.reads == 5 and len(batches) == 3
    x, half, names = batches[1]
    np.testing.assert_array_equal(x.numpy(), np.array([[2, 4], [3, 9]], dtype=np.float32))
    np.testing.assert_array_equal(half.numpy(), np.array([1.0, 1.5], dtype=np.float32))
    assert names == ["2", "3"]


def test_tensor_dataset_subclass_with_own_getitem_is_used():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            (x,) = super().__getitem__(i)
            return (x * 2,)

    (batch,) = next(iter(DataLoader(Doubled(gdcore.arange(4.0)), batch_size=4)))
    assert batch.tolist() == [0.0, 2.0, 4.0, 6.0]


def test_custom_collate_fn_receives_the_samples():
    _, _, ds = _table(5)
    loader = DataLoader(ds, batch_size=2, collate_fn=lambda samples: len(samples))
    assert list(loader) == [2, 2, 1]


def test_default_collate_kinds():
    ints = default_collate([1, 2, 3])
    assert ints.dtype == gdcore.int64 and ints.tolist() == [1, 2, 3]
    assert default_collate([1, 2.5]).dtype == gdcore.float32
    stacked = default_collate([np.array([1.0, 2.0]), np.array([3.0, 4.0])])
    assert stacked.dtype == gdcore.float64 and stacked.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    nested = default_collate([{"a": (1, "x")}, {"a": (2, "y")}])
    assert nested["a"][0].tolist() == [1, 2] and nested["a"][1] == ["x", "y"]


@pytest.mark.parametrize("samples, error, words", [
    ([], ValueError, "empty"),
    ([gdcore.zeros(2), gdcore.zeros(3)], ValueError, "different shapes"),
    ([gdcore.zeros(2), 1.0], TypeError, "sample 1 is a float"),
    ([1, "a"], TypeError, "sample 1 is a str"),
    ([(1, 2), (1,)], ValueError, "different lengths"),
    ([object()], TypeError, "cannot batch samples of type object"),
])
def test_default_collate_errors(samples, error, words):
    with pytest.raises(error) as info:
        default_collate(samples)
    assert words in str(info.value)


# ---- argument checking ----------------------------------------------------------------------

@pytest.mark.parametrize("batch_size, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError), ("4", TypeError),
                                               (True, TypeError)])
def test_bad_batch_size(batch_size, error):
    _, _, ds = _table(4)
    with pytest.raises(error, match="batch_size must be a positive int"):
        DataLoader(ds, batch_size=batch_size)


def test_bad_generator_dataset_and_collate():
    _, _, ds = _table(4)
    with pytest.raises(TypeError, match="gdcore.Generator"):
        DataLoader(ds, shuffle=True, generator=np.random.default_rng(0))
    with pytest.raises(TypeError, match="__getitem__ and __len__"):
        DataLoader(iter([1, 2]))
    with pytest.raises(TypeError, match="collate_fn must be callable"):
        DataLoader(ds, collate_fn="stack")
