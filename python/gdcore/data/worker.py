"""DataLoader worker processes: the loop a worker runs, and the main side that feeds and reads them.

As in torch.utils.data: worker ``i`` of ``num_workers`` limits gdcore to one thread (kernels and
OpenBLAS, ``set_num_threads(1)``), seeds gdcore's default generator,
Python's ``random`` and numpy's global generator from ``base_seed + i`` (the base seed the
loader drew for the epoch the workers start in; persistent workers keep theirs), runs ``worker_init_fn(i)``,
then builds the batches it is sent (``collate_fn([dataset[j] for j in indices])``).
Batch ``k`` of an epoch goes to worker ``k % num_workers`` and the main process hands
batches out in order ``k = 0, 1, ...`` whatever order they finish in, so the results do not
depend on timing: the same seed gives the same batches, draws included.

A worker's exception comes back wrapped with its traceback and is raised again in the main
process; a worker that dies (killed by a signal, ``os._exit``) is noticed within a fraction
of a second and reported as a RuntimeError instead of waiting forever.
"""
from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import time

from . import worker_info
from .worker_info import WorkerInfo


__all__ = ["WorkerPool"]

_POLL_SECONDS = 0.1  # how often the main process checks its workers while it waits
_PARENT_CHECK_SECONDS = 1.0  # how often an idle worker checks that its parent is still alive


class _ExceptionWrapper:
    """An exception and its formatted traceback, sent from a worker to the main process."""

    def __init__(self, where: str) -> None:
        exc_type, exc, tb = sys.exc_info()
        self.type_name = exc_type.__name__
        try:
            pickle.dumps(exc_type)
        except Exception:  # a class defined inside a function: raised as a RuntimeError in the main process
            exc_type = RuntimeError
        self.exc_type = exc_type
        self.where = where
        import traceback

        self.exc_msg = "".join(traceback.format_exception(*sys.exc_info()))

    def reraise(self):
        msg = f"Caught {self.type_name} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)  # str(KeyError(x)) is repr(x): keep the traceback's lines readable
        try:
            exception = self.exc_type(msg)
        except Exception:  # an exception type that needs other arguments
            raise RuntimeError(msg) from None
        raise exception


class _KeyErrorMessage(str):
    def __repr__(self) -> str:
        return self


class _Resume:
    """Sent to a persistent worker at the start of a new epoch; echoed back once everything before it is done."""


def _one_thread() -> None:
    # As torch's workers (torch.set_num_threads(1)): N workers building batches side by side, each
    # splitting its kernels and matrix products over every core, would run N x cores threads.
    from ..threads import set_num_threads

    set_num_threads(1)


def _seed_worker(seed: int) -> None:
    import numpy as np

    from ..creation import manual_seed

    manual_seed(seed % 2**64)
    random.seed(seed)
    np.random.seed(np.random.SeedSequence(seed).generate_state(1)[0])


def _worker_loop(dataset, index_queue, result_queue, collate, base_seed: int, worker_id: int, num_workers: int,
                 worker_init_fn, parent_pid: int) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    _one_thread()
    seed = base_seed + worker_id
    _seed_worker(seed)
    worker_info._current = WorkerInfo(worker_id, num_workers, seed, dataset)
    init_error = None
    if worker_init_fn is not None:
        try:
            worker_init_fn(worker_id)
        except Exception:
            init_error = _ExceptionWrapper(f"in worker_init_fn of DataLoader worker process {worker_id}")
    while True:
        try:
            task = index_queue.get(timeout=_PARENT_CHECK_SECONDS)
        except queue.Empty:
            if os.getppid() != parent_pid:
                return  # the main process is gone: nobody will read our results
            continue
        if task is None:
            return
        if isinstance(task, _Resume):
            _send(result_queue, worker_id, task, worker_id)
            continue
        index, indices = task
        if init_error is not None:
            result = init_error
        else:
            try:
                result = collate([dataset[i] for i in indices])
            except Exception:
                result = _ExceptionWrapper(f"in DataLoader worker process {worker_id}")
        _send(result_queue, index, result, worker_id)


def _send(result_queue, index: int, result, worker_id: int) -> None:
    # Pickled here rather than in the queue's feeder thread, where a failure would be printed and the
    # batch lost, leaving the main process waiting for it.
    try:
        payload = pickle.dumps((index, result), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        wrapper = _ExceptionWrapper(f"pickling a batch in DataLoader worker process {worker_id} (every part of a "
                                    "batch must be picklable to reach the main process)")
        payload = pickle.dumps((index, wrapper), protocol=pickle.HIGHEST_PROTOCOL)
    result_queue.put(payload)


def _describe_exit(process) -> str:
    import signal

    code = process.exitcode
    if code is not None and code < 0:
        try:
            return f"DataLoader worker (pid {process.pid}) is killed by signal: {signal.Signals(-code).name}."
        except ValueError:
            return f"DataLoader worker (pid {process.pid}) is killed by signal {-code}."
    return f"DataLoader worker (pid {process.pid}) exited unexpectedly with exit code {code}."


class WorkerPool:
    """``num_workers`` processes building batches for one DataLoader (for an epoch, or several
    when ``persistent_workers``). ``run(batches)`` yields the built batches in order."""

    def __init__(self, loader, base_seed: int) -> None:
        import multiprocessing

        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = multiprocessing.get_context()
        elif isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        self.num_workers = loader.num_workers
        self.prefetch = loader.prefetch_factor * loader.num_workers
        self.timeout = loader.timeout
        self.result_queue = ctx.Queue()
        self.index_queues = []
        self.workers = []
        self.closed = False
        collate = loader.collate_fn or loader._default_collate
        for worker_id in range(self.num_workers):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()
            process = ctx.Process(target=_worker_loop, daemon=True,
                                  args=(loader.dataset, index_queue, self.result_queue, collate, base_seed, worker_id,
                                        self.num_workers, loader.worker_init_fn, os.getpid()))
            process.start()
            self.index_queues.append(index_queue)
            self.workers.append(process)
        self.epochs = 0

    def _get(self):
        """The next (index, result) from any worker; raises if a worker died or the timeout passed."""
        waited = 0.0
        while True:
            wait = _POLL_SECONDS if self.timeout <= 0 else min(_POLL_SECONDS, self.timeout - waited)
            try:
                return pickle.loads(self.result_queue.get(timeout=max(wait, 0.0)))
            except queue.Empty:
                waited += wait
            dead = [w for w in self.workers if not w.is_alive()]
            if dead:
                self.close(wait=0.0)
                raise RuntimeError(" ".join(_describe_exit(w) for w in dead) +
                                   " A worker that dies (out of memory, a signal, os._exit) cannot send its batch; "
                                   "run with num_workers=0 to see the problem in the main process.")
            if self.timeout > 0 and waited >= self.timeout:
                self.close(wait=0.0)
                raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds")

    def _resume(self) -> None:
        """Drains what an abandoned previous epoch left in flight, so a new epoch starts clean."""
        for index_queue in self.index_queues:
            index_queue.put(_Resume())
        acknowledged = 0
        while acknowledged < self.num_workers:
            _, result = self._get()
            if isinstance(result, _Resume):
                acknowledged += 1

    def run(self, batches):
        """Yields ``batches`` (an iterable of index lists) built by the workers, in order."""
        if self.epochs:
            self._resume()
        self.epochs += 1
        batches = iter(batches)
        sent = received = 0
        done: dict = {}
        try:
            for _ in range(self.prefetch):
                sent += self._send(batches, sent)
            while received < sent:
                while received not in done:
                    index, result = self._get()
                    if not isinstance(result, _Resume):
                        done[index] = result
                result = done.pop(received)
                received += 1
                sent += self._send(batches, sent)
                if isinstance(result, _ExceptionWrapper):
                    self.close(wait=0.0)
                    result.reraise()
                yield result
        except GeneratorExit:
            return  # the loop over the loader stopped early; a persistent pool drains at the next epoch

    def _send(self, batches, index: int) -> int:
        indices = next(batches, None)
        if indices is None:
            return 0
        self.index_queues[index % self.num_workers].put((index, indices))
        return 1

    def close(self, wait: float = 1.0) -> None:
        """Stops the workers: asks them to finish, and terminates any still busy after ``wait`` seconds."""
        if self.closed:
            return
        self.closed = True
        for index_queue in self.index_queues:
            try:
                index_queue.put(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + wait
        for w in self.workers:
            w.join(timeout=max(0.0, deadline - time.monotonic()))
            if w.is_alive():
                w.terminate()
                w.join()
        for q in self.index_queues + [self.result_queue]:
            q.cancel_join_thread()
            q.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
