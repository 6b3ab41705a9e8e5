"""DataLoader worker processes for an IterableDataset, as torch.utils.data does it: each of the
``num_workers`` processes iterates its own copy of the whole dataset (so a dataset that should not
repeat its samples splits the work itself, with ``get_worker_info()``), builds batches from what its
iterator yields, and the main process takes one batch from each worker in turn (worker 0, 1, ...,
0, 1, ...), skipping workers that are done. Seeding, ``worker_init_fn``, one thread per worker and
the re-raising of a worker's exception with its traceback are those of gdcore.data.worker.

Each worker's queue holds at most ``prefetch_factor`` batches, so a long stream is not read ahead
of the main process.
"""
from __future__ import annotations

import os
import pickle
import queue

from . import worker_info
from .worker import _POLL_SECONDS, _PARENT_CHECK_SECONDS, _describe_exit, _ExceptionWrapper, _one_thread, _seed_worker
from .worker_info import WorkerInfo

__all__ = ["StreamWorkers"]


class _Done:
    """Sent by a worker when its iterator is exhausted."""


def _stream_loop(dataset, result_queue, collate, batch_size, drop_last: bool, base_seed: int, worker_id: int,
                 num_workers: int, worker_init_fn, parent_pid: int) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    _one_thread()
    seed = base_seed + worker_id
    _seed_worker(seed)
    worker_info._current = WorkerInfo(worker_id, num_workers, seed, dataset)

    def put(item) -> None:
        try:
            payload = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            payload = pickle.dumps(_ExceptionWrapper(
                f"pickling a batch in DataLoader worker process {worker_id} (every part of a batch must be "
                "picklable to reach the main process)"), protocol=pickle.HIGHEST_PROTOCOL)
        while True:  # the queue is bounded: wait for the main process, unless it is gone
            try:
                result_queue.put(payload, timeout=_PARENT_CHECK_SECONDS)
                return
            except queue.Full:
                if os.getppid() != parent_pid:
                    raise SystemExit(0) from None

    where = f"in worker_init_fn of DataLoader worker process {worker_id}"
    try:
        if worker_init_fn is not None:
            worker_init_fn(worker_id)
        where = f"in DataLoader worker process {worker_id}"
        batch = []
        for sample in dataset:
            if batch_size is None:
                put(collate(sample))
                continue
            batch.append(sample)
            if len(batch) == batch_size:
                put(collate(batch))
                batch = []
        if batch and not drop_last:
            put(collate(batch))
    except Exception:
        put(_ExceptionWrapper(where))
    put(_Done())


class StreamWorkers:
    """The worker processes of one epoch over an IterableDataset; ``run()`` yields their batches in turn."""

    def __init__(self, loader, base_seed: int, collate) -> None:
        import multiprocessing

        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = multiprocessing.get_context()
        elif isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        self.timeout = loader.timeout
        self.queues, self.workers = [], []
        self.closed = False
        n = loader.num_workers
        for worker_id in range(n):
            result_queue = ctx.Queue(maxsize=loader.prefetch_factor)
            process = ctx.Process(target=_stream_loop, daemon=True,
                                  args=(loader.dataset, result_queue, collate, loader.batch_size, loader.drop_last,
                                        base_seed, worker_id, n, loader.worker_init_fn, os.getpid()))
            process.start()
            self.queues.append(result_queue)
            self.workers.append(process)

    def _get(self, worker_id: int):
        q, process = self.queues[worker_id], self.workers[worker_id]
        waited = 0.0
        while True:
            wait = _POLL_SECONDS if self.timeout <= 0 else min(_POLL_SECONDS, self.timeout - waited)
            try:
                return pickle.loads(q.get(timeout=max(wait, 0.0)))
            except queue.Empty:
                waited += wait
            if not process.is_alive():
                try:  # what it sent just before it exited
                    return pickle.loads(q.get(timeout=_POLL_SECONDS))
                except queue.Empty:
                    pass
                self.close()
                raise RuntimeError(_describe_exit(process) + " A worker that dies (out of memory, a signal, "
                                   "os._exit) cannot send its batch; run with num_workers=0 to see the problem in "
                                   "the main process.")
            if self.timeout > 0 and waited >= self.timeout:
                self.close()
                raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds")

    def run(self):
        active = list(range(len(self.workers)))
        try:
            while active:
                for worker_id in list(active):
                    item = self._get(worker_id)
                    if isinstance(item, _Done):
                        active.remove(worker_id)
                        continue
                    if isinstance(item, _ExceptionWrapper):
                        self.close()
                        item.reraise()
                    yield item
        finally:
            self.close()

    def close(self) -> None:
        """Stops the workers (they may be waiting to hand over a batch nobody will read)."""
        if self.closed:
            return
        self.closed = True
        for w in self.workers:
            if w.is_alive():
                w.terminate()
            w.join()
        for q in self.queues:
            q.cancel_join_thread()
            q.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
