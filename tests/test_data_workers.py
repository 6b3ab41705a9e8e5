"""DataLoader as torch's (gdcore/data/dataloader.py, sampler.py, worker.py): worker processes,
their seeds, worker_init_fn, get_worker_info, persistent workers, prefetching, timeouts,
errors and dead workers, samplers, and the tensor pickling the workers rely on
(tensor_pickle.py).

"Same draws" is checked as documented in DataLoader's docstring: the order of samples is
the same draw as with num_workers=0; a worker's own random draws are the stream of gdcore's
generator seeded with base_seed + worker_id, batch k being built by worker k % num_workers.
Expected values come from numpy, plain loops, and replaying those streams in the test.
"""
import os
import pickle
import signal
import time

import numpy as np
import pytest

import gdcore
from gdcore import nn
from gdcore.data import (BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler, SubsetRandomSampler,
                         TensorDataset, get_worker_info)
from gdcore.data import dataloader as dataloader_module


class Squares(Dataset):
    """Sample i is (tensor([i, i*i]), i): deterministic, so any loader must reproduce it exactly."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return gdcore.tensor([float(i), float(i * i)]), i


class Draws(Dataset):
    """Sample i draws two uniform numbers from gdcore's default generator, and says who drew them."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        info = get_worker_info()
        return i, gdcore.rand(2), (-1 if info is None else info.id), (-1 if info is None else info.seed)


class Who(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return i, os.getpid(), info.id, info.num_workers, info.seed, info.dataset is not None


def _plain(batches):
    return [(x.tolist(), y.tolist()) for x, y in batches]


# ---- same order and content as num_workers=0 ---------------------------------------------

@pytest.mark.parametrize("num_workers", [1, 2, 4])
@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (4, True)])
def test_workers_give_the_batches_of_the_single_process_loader(num_workers, batch_size, drop_last):
    ds = Squares(10)
    expected_ids = [list(range(s, min(s + batch_size, 10))) for s in range(0, 10, batch_size)]
    if drop_last:
        expected_ids = [b for b in expected_ids if len(b) == batch_size]
    expected = [([[float(i), float(i * i)] for i in b], b) for b in expected_ids]  # a plain loop
    got = _plain(DataLoader(ds, batch_size=batch_size, drop_last=drop_last, num_workers=num_workers))
    assert got == expected


def test_every_epochs_order_is_the_same_with_and_without_workers():
    def epochs(num_workers):
        gdcore.manual_seed(11)
        loader = DataLoader(Squares(7), batch_size=3, shuffle=True, num_workers=num_workers)
        return [_plain(loader) for _ in range(3)]

    single = epochs(0)
    assert single[0] != single[1]  # a new order each epoch
    assert epochs(2) == single and epochs(4) == single


def test_shuffled_order_with_workers_is_the_single_process_order():
    gen = gdcore.Generator(5)
    single = _plain(DataLoader(Squares(11), batch_size=4, shuffle=True, generator=gdcore.Generator(5)))
    multi = _plain(DataLoader(Squares(11), batch_size=4, shuffle=True, generator=gen, num_workers=3))
    order = gdcore.randperm(11, generator=gdcore.Generator(5)).tolist()  # the loader's one draw per epoch
    assert [b[1] for b in single] == [order[s:s + 4] for s in range(0, 11, 4)]
    assert multi == single


def test_worker_draws_are_the_seeded_streams_and_repeat_from_run_to_run():
    def run():
        gdcore.manual_seed(123)
        return [(ids.tolist(), draws.numpy().copy(), who.tolist(), seeds.tolist())
                for ids, draws, who, seeds in DataLoader(Draws(), batch_size=2, num_workers=3)]

    first, second = run(), run()
    for a, b in zip(first, second):
        assert a[0] == b[0] and a[2] == b[2] and a[3] == b[3]
        np.testing.assert_array_equal(a[1], b[1])
    # Batch k is built by worker k % 3, seeded with base_seed + worker_id.
    assert [batch[2] for batch in first] == [[k % 3] * 2 for k in range(6)]
    seeds = {batch[2][0]: batch[3][0] for batch in first}
    base = seeds[0]
    assert seeds == {0: base, 1: base + 1, 2: base + 2}
    # Replay each worker's stream in this process: manual_seed(seed), then its samples in order.
    state = gdcore.get_rng_state()
    try:
        for worker in range(3):
            gdcore.manual_seed(seeds[worker])
            for k in range(worker, 6, 3):
                expected = np.stack([gdcore.rand(2).numpy() for _ in range(2)])
                np.testing.assert_array_equal(first[k][1], expected)
    finally:
        gdcore.set_rng_state(state)


def test_single_process_draws_continue_the_main_generator():
    gdcore.manual_seed(7)
    got = np.concatenate([d.numpy() for _, d, _, _ in DataLoader(Draws(), batch_size=4)])
    gdcore.manual_seed(7)
    gdcore.randint(0, 2**62, ())  # the epoch's base seed, drawn with or without workers (as torch)
    expected = np.concatenate([gdcore.rand(2).numpy()[None] for _ in range(12)])
    np.testing.assert_array_equal(got, expected)


def test_worker_info_and_worker_init_fn():
    assert get_worker_info() is None
    calls = []  # filled in the workers' copies, so it stays empty here
    loader = DataLoader(Who(), batch_size=2, num_workers=2, worker_init_fn=lambda i: calls.append(i))
    rows = [row for batch in loader for row in zip(*(v.tolist() for v in batch))]
    assert calls == []
    assert sorted(r[0] for r in rows) == list(range(8))
    assert {r[2] for r in rows} == {0, 1} and {r[3] for r in rows} == {2} and all(r[5] for r in rows)
    assert len({r[1] for r in rows}) == 2 and os.getpid() not in {r[1] for r in rows}
    seed_of = {r[2]: r[4] for r in rows}
    assert seed_of[1] == seed_of[0] + 1


def test_worker_init_fn_runs_in_each_worker_before_its_samples():
    class Seen(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return get_worker_info().dataset.tag

    def init(worker_id):
        get_worker_info().dataset.tag = f"worker-{worker_id}"

    ds = Seen()
    ds.tag = "main"
    got = [b for batch in DataLoader(ds, batch_size=1, num_workers=2, worker_init_fn=init) for b in batch]
    assert got == ["worker-0", "worker-1", "worker-0", "worker-1"]


def test_persistent_workers_survive_epochs_and_early_breaks():
    loader = DataLoader(Who(), batch_size=2, num_workers=2, persistent_workers=True, prefetch_factor=1)
    pids_per_epoch = []
    for _ in range(2):
        pids_per_epoch.append({int(p) for batch in loader for p in batch[1]})
    for batch in loader:  # stop after one batch: the next epoch must not see the leftovers
        break
    ids = [int(i) for batch in loader for i in batch[0]]
    assert ids == list(range(8))
    assert pids_per_epoch[0] == pids_per_epoch[1] and len(pids_per_epoch[0]) == 2
    fresh = DataLoader(Who(), batch_size=2, num_workers=2)
    first = {int(p) for batch in fresh for p in batch[1]}
    second = {int(p) for batch in fresh for p in batch[1]}
    assert first.isdisjoint(second)  # without persistent_workers, new processes per epoch


def test_spawned_workers_receive_the_dataset_and_send_tensors_back_by_pickle():
    got = _plain(DataLoader(Squares(5), batch_size=2, num_workers=1, multiprocessing_context="spawn"))
    assert got == _plain(DataLoader(Squares(5), batch_size=2))


@pytest.mark.parametrize("prefetch_factor", [1, 2, 5])
def test_prefetch_factor_changes_nothing_in_the_results(prefetch_factor):
    got = _plain(DataLoader(Squares(9), batch_size=2, num_workers=2, prefetch_factor=prefetch_factor))
    assert got == _plain(DataLoader(Squares(9), batch_size=2))


# ---- errors ----------------------------------------------------------------------------------

class Failing(Dataset):
    def __init__(self, error):
        self.error = error

    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 5:
            raise self.error
        return i


def test_a_worker_exception_is_raised_again_with_the_workers_traceback():
    with pytest.raises(ValueError) as info:
        list(DataLoader(Failing(ValueError("sample 5 is broken")), batch_size=2, num_workers=2))
    text = str(info.value)
    assert "Caught ValueError in DataLoader worker process 0" in text
    assert "Traceback (most recent call last)" in text and "__getitem__" in text and "sample 5 is broken" in text


def test_key_errors_keep_a_readable_message_and_odd_exceptions_become_runtime_errors():
    with pytest.raises(KeyError) as info:
        list(DataLoader(Failing(KeyError("missing")), batch_size=2, num_workers=2))
    assert "\n" in str(info.value)  # real line breaks, not a repr

    class NeedsTwo(Exception):
        def __init__(self, a, b):
            super().__init__(a, b)

    with pytest.raises(RuntimeError, match="Caught NeedsTwo"):
        list(DataLoader(Failing(NeedsTwo(1, 2)), batch_size=2, num_workers=1))


def test_worker_init_fn_errors_are_reported():
    def init(worker_id):
        raise RuntimeError(f"cannot open the shard of worker {worker_id}")

    with pytest.raises(RuntimeError, match="in worker_init_fn of DataLoader worker process 0") as info:
        list(DataLoader(Squares(4), batch_size=2, num_workers=2, worker_init_fn=init))
    assert "cannot open the shard of worker 0" in str(info.value)


def test_a_killed_worker_is_a_runtime_error_not_a_hang():
    class Killer(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            if i == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            return i

    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid \d+\) is killed by signal: SIGKILL"):
        list(DataLoader(Killer(), batch_size=1, num_workers=2))
    assert time.monotonic() - start < 10


def test_timeout_raises_instead_of_waiting_forever():
    class Slow(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            time.sleep(3)
            return i

    start = time.monotonic()
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.3 seconds"):
        list(DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.3))
    assert time.monotonic() - start < 3


# ---- samplers, collate_fn, options --------------------------------------------------------------

def test_sampler_and_batch_sampler_as_torch():
    ds = Squares(10)
    got = [b[1].tolist() for b in DataLoader(ds, batch_size=3, sampler=[9, 1, 4, 4, 0])]
    assert got == [[9, 1, 4], [4, 0]]
    got = [b[1].tolist() for b in DataLoader(ds, batch_sampler=[[2, 3], [7], [0, 1, 5]], num_workers=2)]
    assert got == [[2, 3], [7], [0, 1, 5]]
    bs = BatchSampler(SequentialSampler(ds), batch_size=4, drop_last=True)
    assert list(bs) == [[0, 1, 2, 3], [4, 5, 6, 7]] and len(bs) == 2
    assert len(DataLoader(ds, batch_sampler=bs)) == 2


def test_random_samplers_draw_from_their_generator():
    ds = Squares(6)
    order = list(RandomSampler(ds, generator=gdcore.Generator(3)))
    assert order == gdcore.randperm(6, generator=gdcore.Generator(3)).tolist()
    assert sorted(order) == list(range(6))
    assert len(list(RandomSampler(ds, num_samples=14, generator=gdcore.Generator(1)))) == 14
    drawn = list(RandomSampler(ds, replacement=True, num_samples=50, generator=gdcore.Generator(2)))
    assert len(drawn) == 50 and all(0 <= i < 6 for i in drawn)
    subset = list(SubsetRandomSampler([10, 20, 30], generator=gdcore.Generator(0)))
    assert sorted(subset) == [10, 20, 30]
    loader = DataLoader(ds, batch_size=6, sampler=RandomSampler(ds, generator=gdcore.Generator(3)))
    assert [b[1].tolist() for b in loader] == [order]


def test_collate_fn_pin_memory_and_unbatched_loading():
    def pairs(samples):
        return [(int(s[1]), float(s[0][1])) for s in samples]

    got = list(DataLoader(Squares(5), batch_size=2, collate_fn=pairs, num_workers=2, pin_memory=True))
    assert got == [[(0, 0.0), (1, 1.0)], [(2, 4.0), (3, 9.0)], [(4, 16.0)]]
    unbatched = list(DataLoader(Squares(3), batch_size=None))
    assert [s[1] for s in unbatched] == [0, 1, 2] and len(DataLoader(Squares(3), batch_size=None)) == 3


def test_tensor_dataset_keeps_its_one_call_gather_with_workers(monkeypatch):
    x = gdcore.arange(20, dtype=gdcore.float32).reshape(10, 2)
    y = gdcore.arange(10)
    calls = []
    real = dataloader_module._core.gather_rows
    monkeypatch.setattr(dataloader_module._core, "gather_rows", lambda *a: calls.append(1) or real(*a))
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4, num_workers=4))
    assert len(calls) == 3
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), np.arange(10))


# ---- tensor pickling ----------------------------------------------------------------------------

def _dtypes():
    names = ["float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool"]
    return [getattr(gdcore, n) for n in names if isinstance(getattr(gdcore, n, None), gdcore.dtype)]


@pytest.mark.parametrize("dtype", _dtypes(), ids=str)
def test_tensors_of_every_dtype_pickle(dtype):
    values = np.array([[0, 1, 2], [3, 4, 5]]) % 2 if dtype.name == "bool" else np.array([[0, 1, 2], [3, 4, 5]])
    t = gdcore.tensor(values.tolist(), dtype=dtype)
    for source in (t, t.t(), t[1], t[0, 2]):  # contiguous, transposed view, row, 0-d
        back = pickle.loads(pickle.dumps(source, protocol=pickle.HIGHEST_PROTOCOL))
        assert back.dtype == dtype and tuple(back.shape) == tuple(source.shape) and back.is_contiguous()
        np.testing.assert_array_equal(back.numpy(), source.numpy())


def test_pickled_tensors_own_their_memory_and_keep_requires_grad():
    w = gdcore.tensor([1.0, 2.0], requires_grad=True)
    back = pickle.loads(pickle.dumps(w * 3))
    assert back.requires_grad and back.is_leaf
    np.testing.assert_array_equal(back.detach().numpy(), [3.0, 6.0])
    a = gdcore.zeros(2)
    b = pickle.loads(pickle.dumps(a))
    b += 1
    assert a.tolist() == [0.0, 0.0]


def test_modules_pickle_with_their_parameters():
    net = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    back = pickle.loads(pickle.dumps(net))
    assert type(back[0].weight) is nn.Parameter and back[0].weight.requires_grad
    x = gdcore.randn(4, 3)
    np.testing.assert_array_equal(back(x).detach().numpy(), net(x).detach().numpy())
