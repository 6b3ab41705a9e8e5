"""Large tensor storages (>= 1 MiB) behave like any other: gdcore's allocator gives them 2 MiB-aligned
memory advised into transparent huge pages on Linux and keeps freed ones for reuse
(cpp/src/tensor/block_cache.cpp), and none of that may show. Zero-copy numpy views share the
memory both ways and keep it alive, a reused block never leaks old values into zeros() or into a
view still held, from_numpy of a large array borrows numpy's memory, and the per-sample epoch
gives the same bits on owned (huge-paged) rows, on numpy's memory and with huge pages turned off
for the whole process, close to a plain numpy loop over the same order."""
import gc
import os
import subprocess
import sys

import numpy as np
import pytest

import gdcore

MIB = 1 << 20
LINUX = sys.platform.startswith("linux")
HAS_THP = os.path.exists("/sys/kernel/mm/transparent_hugepage/enabled")


def big(rows=200_000, features=16, seed=0):
    """A float64 array of rows x features (the per-sample benchmark's 25.6 MB by default)."""
    return np.random.default_rng(seed).standard_normal((rows, features))


def test_a_large_copy_is_aligned_equal_and_separate():
    a = big(40_000)  # 5.1 MB
    t = gdcore.tensor(a)
    assert t.data_ptr() % 64 == 0
    if LINUX:
        assert t.data_ptr() % (2 * MIB) == 0, "large blocks start on a huge-page boundary"
    assert np.array_equal(t.numpy(), a)
    assert not np.shares_memory(t.numpy(), a)
    a[0, 0] = 123.0
    assert t[0, 0].item() != 123.0


def test_numpy_views_of_a_large_tensor_share_its_memory_both_ways():
    t = gdcore.zeros(3 * MIB // 8 + 5, dtype=gdcore.float64)
    v = t.numpy()
    assert v.ctypes.data == t.data_ptr()
    v[-1] = 2.5
    assert t[-1].item() == 2.5
    t.add_(1.0)
    assert v[-1] == 3.5 and v[0] == 1.0
    assert np.shares_memory(t.numpy(), v)


def test_a_numpy_view_keeps_a_freed_large_tensor_alive_against_reuse():
    n = 3 * MIB // 8
    t = gdcore.full((n,), 7.0, dtype=gdcore.float64)
    v = t.numpy()
    where = t.data_ptr()
    del t
    gc.collect()
    u = gdcore.zeros(n, dtype=gdcore.float64)  # the same size: would get a freed block from the cache
    assert u.data_ptr() != where
    assert np.all(v == 7.0) and np.all(u.numpy() == 0.0)


def test_a_reused_large_block_is_zeroed_again_by_zeros():
    n = 5 * MIB // 8
    t = gdcore.ones(n, dtype=gdcore.float64)
    t.mul_(3.0)
    where = t.data_ptr()
    del t
    gc.collect()
    z = gdcore.zeros(n, dtype=gdcore.float64)
    assert z.data_ptr() == where  # the cache hands the block back (one thread, the same size)...
    assert not z.numpy().any()  # ...and zeros() zeroes it again
    o = gdcore.ones(n, dtype=gdcore.float64)
    assert np.all(o.numpy() == 1.0)


@pytest.mark.parametrize("nbytes", [MIB - 64, MIB - 8, MIB, MIB + 8])
def test_tensors_around_the_large_block_threshold_work_and_are_reused(nbytes):
    # 1 MiB - 8 rounds up to 1 MiB in 64-byte steps: it takes the large path (whole huge pages), which
    # used to ask aligned_alloc for a 1 MiB block on a 2 MiB boundary (refused under AddressSanitizer).
    for _ in range(3):
        t = gdcore.full((nbytes // 8,), 1.5, dtype=gdcore.float64)
        assert t.data_ptr() % 64 == 0
        v = t.numpy()
        assert v.ctypes.data == t.data_ptr() and np.all(v == 1.5)
        t.mul_(2.0)
        assert v[-1] == 3.0
        del t, v
        gc.collect()


def test_from_numpy_of_a_large_array_borrows_numpy_memory():
    a = big(100_000)  # 12.8 MB
    t = gdcore.from_numpy(a)
    assert t.data_ptr() == a.ctypes.data
    assert np.shares_memory(t.numpy(), a)
    t[5, 3] = -1.0
    assert a[5, 3] == -1.0
    a[7, 1] = 4.0
    assert t[7, 1].item() == 4.0
    del a
    gc.collect()
    assert t[7, 1].item() == 4.0  # the tensor keeps numpy's memory alive


def test_views_and_reshapes_of_a_large_tensor_copy_nothing():
    t = gdcore.tensor(big(50_000))
    assert t.reshape(-1).data_ptr() == t.data_ptr()
    assert t[1000:].data_ptr() == t.data_ptr() + 1000 * 16 * 8
    assert t.t().data_ptr() == t.data_ptr()


def _vm_flags(address):
    """The VmFlags of the mapping that holds `address` in /proc/self/smaps."""
    inside = False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split(" ", 1)[0]
            if "-" in head and ":" not in head:
                lo, hi = (int(x, 16) for x in head.split("-"))
                inside = lo <= address < hi
            elif inside and line.startswith("VmFlags:"):
                return line.split()[1:]
    return None


@pytest.mark.skipif(not (LINUX and HAS_THP), reason="transparent huge pages are a Linux feature")
def test_large_storages_are_advised_into_huge_pages():
    t = gdcore.zeros(4 * MIB // 8, dtype=gdcore.float64)
    flags = _vm_flags(t.data_ptr())
    assert flags is not None and "hg" in flags, flags  # MADV_HUGEPAGE on the block's mapping


_EPOCH = """
import hashlib, sys
import numpy as np
import gdcore

def epoch(borrow, rows=20_000, features=16, seed=0, lr=1e-3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, features))
    y = X @ rng.standard_normal(features) + 0.1 * rng.standard_normal(rows)
    make = gdcore.from_numpy if borrow else gdcore.tensor
    Xt, yt = make(X), make(y)
    w = gdcore.zeros(features, dtype=gdcore.float64, requires_grad=True)
    b = gdcore.zeros(1, dtype=gdcore.float64, requires_grad=True)
    optimizer = gdcore.optim.SGD([w, b], lr=lr)

    def sample_step(xb, yb):
        loss = ((xb @ w + b - yb) ** 2 / 2).sum()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss
    step = gdcore.compile(sample_step)
    loader = gdcore.data.DataLoader(gdcore.data.TensorDataset(Xt, yt), batch_size=1, shuffle=True,
                                    generator=gdcore.Generator(5))
    losses = gdcore.cat([step.run_epoch(loader) for _ in range(2)], 0)
    assert any(c.program.lowering == "lowered" for c in step._captures.values())
    return losses.numpy().tobytes() + w.detach().numpy().tobytes() + b.detach().numpy().tobytes(), X, y

if __name__ == "__main__":
    import ctypes
    assert ctypes.CDLL(None).prctl(41, 1, 0, 0, 0) == 0  # PR_SET_THP_DISABLE: every page of this process 4 KB
    print(hashlib.sha256(epoch(borrow=False)[0]).hexdigest())
"""


def _epoch_module():
    namespace = {"__name__": "epoch_of_test_large_storage"}
    exec(compile(_EPOCH, "<per-sample epoch>", "exec"), namespace)
    return namespace["epoch"]


def test_the_per_sample_epoch_gives_the_same_bits_on_owned_and_borrowed_rows():
    epoch = _epoch_module()
    owned, X, y = epoch(borrow=False)
    borrowed, _, _ = epoch(borrow=True)
    assert owned == borrowed

    # Against a plain numpy loop over the same two shuffled orders (the loader draws one randperm per
    # epoch, then a worker seed; the products' summation order differs, so closeness, not bits).
    generator = gdcore.Generator(5)
    w, b, losses = np.zeros(X.shape[1]), 0.0, []
    for _ in range(2):
        order = gdcore.randperm(len(X), generator=generator).numpy()
        gdcore.randint(0, 2**62, (), generator=generator)  # the loader's base-seed draw
        for i in order:
            d = X[i] @ w + b - y[i]
            losses.append(d * d / 2)
            w, b = w - 1e-3 * d * X[i], b - 1e-3 * d
    ours = np.frombuffer(owned, dtype=np.float64)
    expected = np.concatenate([losses, w, [b]])
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.skipif(not LINUX, reason="prctl(PR_SET_THP_DISABLE) is Linux's")
def test_the_per_sample_epoch_gives_the_same_bits_with_huge_pages_turned_off():
    import hashlib
    owned, _, _ = _epoch_module()(borrow=False)
    done = subprocess.run([sys.executable, "-c", _EPOCH], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == hashlib.sha256(owned).hexdigest()
