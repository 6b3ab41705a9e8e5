"""Threads: long kernels release the GIL, grad mode and graphs are per thread, and two models trained
in two threads at once end bit-for-bit where they end when trained one after the other.

gdcore's default random generator is per thread (as its grad mode is), so each training run seeds its
own thread with manual_seed. Backward runs without the GIL; gradients reaching one leaf from two
threads at once are added under a lock, so none is lost.
"""
import struct
import sys
import threading
import time

import numpy as np
import pytest

import gdcore
from gdcore import nn, optim
from gdcore.data import DataLoader, TensorDataset


@pytest.fixture(autouse=True)
def _switch_threads_often():
    """Let Python switch threads every 10 us instead of 5 ms, so that threads really interleave."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def train(seed: int) -> bytes:
    """A few epochs of mini-batch Adam on an MLP; the bytes of every loss and of the final parameters."""
    gdcore.manual_seed(seed)  # this thread's generator: weights, data and shuffling
    model = nn.Sequential(nn.Linear(32, 64), nn.Tanh(), nn.Linear(64, 1))
    X = gdcore.randn(512, 32)
    y = (X[:, :1] * 2.0).tanh()
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    out = bytearray()
    for _ in range(3):
        for xb, yb in loader:
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(xb), yb)
            loss.backward()
            opt.step()
            out += struct.pack("<f", loss.item())
    for p in model.parameters():
        out += p.detach().numpy().tobytes()
    return bytes(out)


def run_in_threads(*jobs):
    """Run the zero-argument callables in one thread each, all at once; their results (errors re-raised)."""
    results, errors = [None] * len(jobs), []
    start = threading.Barrier(len(jobs))

    def run(i, job):
        try:
            start.wait()
            results[i] = job()
        except BaseException as e:  # noqa: BLE001  (re-raised in the main thread)
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    if errors:
        raise errors[0]
    return results


def test_two_models_trained_at_once_match_training_them_one_after_the_other():
    sequential = [train(1), train(2)]
    assert sequential[0] != sequential[1]
    spans = {}

    def timed(seed):
        def job():
            start = time.perf_counter()
            result = train(seed)
            spans[seed] = (start, time.perf_counter())
            return result
        return job

    overlapped = 0
    for _ in range(3):  # several rounds: different interleavings
        assert run_in_threads(timed(1), timed(2)) == sequential
        overlapped += spans[1][0] < spans[2][1] and spans[2][0] < spans[1][1]
    assert overlapped, "the two trainings never ran at the same time"


def test_grad_mode_is_per_thread():
    x = gdcore.ones(3, requires_grad=True)
    inside, outside = threading.Barrier(2), threading.Barrier(2)
    seen = {}

    def without_grad():
        with gdcore.no_grad():
            inside.wait()  # the other thread records while this one is in no_grad
            seen["no_grad thread"] = (x * 2).requires_grad
            outside.wait()

    def with_grad():
        inside.wait()
        seen["grad thread"] = (x * 2).requires_grad
        outside.wait()

    run_in_threads(without_grad, with_grad)
    assert seen == {"no_grad thread": False, "grad thread": True}
    assert gdcore.is_grad_enabled()


def test_each_thread_backpropagates_its_own_graph():
    def grad_of_square(value):
        def job():
            x = gdcore.full((1000,), value, dtype=gdcore.float64, requires_grad=True)
            for _ in range(50):
                x.grad = None
                (x * x).sum().backward()
            return x.grad.numpy().copy()
        return job

    twos, threes = run_in_threads(grad_of_square(1.0), grad_of_square(1.5))
    np.testing.assert_array_equal(twos, np.full(1000, 2.0))
    np.testing.assert_array_equal(threes, np.full(1000, 3.0))


def test_concurrent_backward_into_one_leaf_loses_no_gradient():
    w = gdcore.zeros(50_000, dtype=gdcore.float64, requires_grad=True)
    rounds = 1000

    def job(c):
        def run():
            for _ in range(rounds):
                (w * c).sum().backward()  # adds c to every element of w.grad
        return run

    run_in_threads(job(1.0), job(2.0))
    np.testing.assert_array_equal(w.grad.numpy(), np.full(50_000, rounds * 3.0))


# ---- the GIL is released during long kernels ---------------------------------------------------------

# Each call takes 0.05-0.5 s here (OpenBLAS on two cores, slowed down by the main thread's
# polling loop), long against the stalls a busy machine gives a thread.
def _big_matmul():
    a, b = gdcore.randn(1300, 1300), gdcore.randn(1300, 1300)
    return lambda: a @ b


def _big_bmm():
    a, b = gdcore.randn(8, 520, 520), gdcore.randn(8, 520, 520)
    return lambda: gdcore.bmm(a, b)


def _big_conv():
    x, w = gdcore.randn(8, 64, 48, 48), gdcore.randn(128, 64, 3, 3)
    return lambda: nn.functional.conv2d(x, w, padding=1)


def _big_backward():
    a = gdcore.randn(800, 800, requires_grad=True)
    b = gdcore.randn(800, 800)
    return lambda: (a @ b @ b).sum().backward()


@pytest.mark.parametrize("make_work", [_big_matmul, _big_bmm, _big_conv, _big_backward],
                         ids=["matmul", "bmm", "conv2d", "backward"])
def test_long_kernels_let_other_threads_run(make_work):
    work = make_work()
    work()  # warm up (allocations, caches)
    spans = []

    def worker():
        for _ in range(3):
            start = time.perf_counter()
            work()
            spans.append((start, time.perf_counter()))

    thread = threading.Thread(target=worker)
    ticks = []
    thread.start()
    while thread.is_alive():  # the main thread keeps running Python while the worker computes
        ticks.append(time.perf_counter())
    thread.join()
    ticks = np.array(ticks)
    for start, end in spans:
        # Holding the GIL would freeze this loop for the whole kernel, nearly the whole call.
        inside = ticks[(ticks > start) & (ticks < end)]
        longest_stall = np.diff(np.concatenate([[start], inside, [end]])).max()
        assert longest_stall < 0.5 * (end - start), \
            f"the main thread stalled {longest_stall:.3f} s during a {end - start:.3f} s call"
