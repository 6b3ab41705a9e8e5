"""DataLoader: iterate over a dataset in (shuffled) mini-batches of gdcore tensors.

Follows torch.utils.data.DataLoader. Shuffling draws one ``gdcore.randperm`` per epoch
from the given generator (or gdcore's default one), so a seeded generator gives the same
sequence of epochs every run and each epoch a new order; ``sampler=`` and
``batch_sampler=`` replace that order. For a ``TensorDataset`` a batch is gathered with
one C++ call (``_core.gather_rows``: one index_select per tensor), in the main process
whatever ``num_workers`` says (there is no Python work to spread); other datasets are read
sample by sample and combined by ``collate_fn`` (``default_collate`` unless given), in
``num_workers`` worker processes when that is above 0 (see ``gdcore.data.worker``).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable, Iterator, Optional

import numpy as np

from .. import _core
from .._core import Generator, Tensor
from ..creation import arange, randint, randperm, tensor
from .dataset import IterableDataset, TensorDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate"]


def default_collate(samples: list) -> Any:
    """Combine a list of samples into a batch, as torch's default_collate does.

    Tensors of equal shape S are stacked into shape (B, *S); Python numbers become a
    1-d tensor of length B (ints -> int64, floats -> float32, gdcore's default; torch
    would give float64); numpy arrays/scalars are stacked and converted; tuples and
    lists are collated position by position (returned as a list); dicts key by key;
    strings are returned as a list.
    """
    if not samples:
        raise ValueError("default_collate: got an empty list of samples")
    first = samples[0]
    if isinstance(first, Tensor):
        _require_all(samples, Tensor, "tensors")
        shapes = {tuple(s.shape) for s in samples}
        if len(shapes) != 1:
            raise ValueError(f"default_collate: cannot stack tensors of different shapes {sorted(shapes)} into a "
                             "batch; make every sample the same shape or pass a collate_fn")
        return _core.stack(samples, 0)
    if isinstance(first, (np.ndarray, np.number)):
        return tensor(np.stack([np.asarray(s) for s in samples]))
    if isinstance(first, (bool, int, float)):
        _require_all(samples, (bool, int, float), "numbers")
        return tensor(samples)
    if isinstance(first, str):
        return list(samples)
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, Sequence):
        lengths = {len(s) for s in samples}
        if len(lengths) != 1:
            raise ValueError(f"default_collate: samples are sequences of different lengths {sorted(lengths)}; "
                             "every sample must have the same number of fields")
        return [default_collate(list(field)) for field in zip(*samples)]
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}; samples must be "
                    "tensors, numbers, numpy arrays, strings, or tuples/lists/dicts of them (or pass a collate_fn)")


def _require_all(samples: list, kind, what: str) -> None:
    for position, s in enumerate(samples):
        if not isinstance(s, kind):
            raise TypeError(f"default_collate: sample 0 is one of the {what} but sample {position} is a "
                            f"{type(s).__name__}; a batch must hold one kind of value")


class DataLoader:
    """Mini-batches of ``dataset``, ``batch_size`` samples each, as torch.utils.data.DataLoader.

    Iterating yields one batch per step: for a dataset of (x, y) pairs a list
    ``[X, Y]`` with X of shape (B, *x.shape) and Y of shape (B, *y.shape), B being
    ``batch_size`` (the last batch may be smaller unless ``drop_last``).
    ``shuffle=True`` visits the samples in a new random order each epoch, drawn from
    ``generator`` (a gdcore.Generator; gdcore's default generator when None, which
    ``gdcore.manual_seed`` seeds). ``sampler`` (indices) or ``batch_sampler`` (lists of
    indices) give the order instead. ``len(loader)`` is the number of batches per epoch;
    ``batch_size=None`` yields the samples one by one, unbatched.

    ``num_workers > 0`` builds the batches of a Python Dataset in that many worker processes
    (``worker_init_fn(worker_id)`` runs first in each; ``get_worker_info()`` tells a worker who
    it is; ``prefetch_factor`` batches per worker are in flight; ``persistent_workers`` keeps
    them between epochs; ``timeout`` > 0 limits the wait for one batch). The batches come out
    in the same order as with ``num_workers=0`` and the same samples; random draws that the
    dataset makes inside a worker come from that worker's generator, seeded with
    ``base_seed + worker_id`` as torch does, so they repeat from run to run for the same seed
    (batch ``k`` being built by worker ``k % num_workers``) but are not the draws the main
    process would make with ``num_workers=0``. ``pin_memory`` (and ``pin_memory_device``) are
    accepted and change nothing on the CPU; batches always come out in order (``in_order=False``
    allows torch to reorder them, which gdcore does not need to). ``multiprocessing_context``
    ('fork', 'spawn', 'forkserver' or a context) picks how workers start (Python's default when
    None); with 'spawn' the dataset and functions must be picklable.
    """

    def __init__(self, dataset, batch_size: Optional[int] = 1, shuffle: Optional[bool] = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0,
                 collate_fn: Optional[Callable[[list], Any]] = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Optional[Callable[[int], None]] = None,
                 multiprocessing_context=None, generator: Optional[Generator] = None, *,
                 prefetch_factor: Optional[int] = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            _check_stream_options(shuffle, sampler, batch_sampler, persistent_workers)
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(f"DataLoader: dataset must define __getitem__ and __len__ (a gdcore.data.Dataset), "
                            f"got a {type(dataset).__name__}")
        if batch_size is not None:
            if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
                raise TypeError(f"DataLoader: batch_size must be a positive int or None, got {batch_size!r}")
            if batch_size <= 0:
                raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size}")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(f"DataLoader: generator must be a gdcore.Generator (e.g. gdcore.Generator(seed)) or None, "
                            f"got a {type(generator).__name__}")
        for name, fn in (("collate_fn", collate_fn), ("worker_init_fn", worker_init_fn)):
            if fn is not None and not callable(fn):
                raise TypeError(f"DataLoader: {name} must be callable, got {fn!r}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
            raise ValueError(f"num_workers option should be non-negative; use num_workers=0 to disable "
                             f"multiprocessing, got {num_workers!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
            raise ValueError(f"timeout option should be non-negative, got {timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing. let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and (isinstance(prefetch_factor, bool) or not isinstance(prefetch_factor, int)
                                            or prefetch_factor < 1):
            raise ValueError(f"prefetch_factor option should be a positive int, got {prefetch_factor!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.collate_fn = collate_fn
        self.num_workers = int(num_workers)
        self.pin_memory = bool(pin_memory)  # nothing to pin: gdcore tensors already live where they are used
        self.timeout = float(timeout)
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self.in_order = bool(in_order)
        # The default order (shuffle or not) is sliced from one index tensor; a sampler given by the user is iterated.
        self._default_sampler = sampler is None
        if sampler is None and not self._iterable:  # an IterableDataset has neither sampler nor batch sampler
            sampler = RandomSampler(dataset, generator=generator) if self.shuffle else SequentialSampler(dataset)
        self.sampler = sampler
        self._custom_batch_sampler = batch_sampler is not None
        if batch_sampler is None and self.batch_size is not None and not self._iterable:
            batch_sampler = BatchSampler(sampler, self.batch_size, self.drop_last)
        self.batch_sampler = batch_sampler
        self._pool = None
        self._base_seed = 0

    _default_collate = staticmethod(default_collate)

    def __len__(self) -> int:
        if self._iterable:  # as torch: from the dataset's own __len__ (TypeError when it has none)
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def _order(self, n: int) -> Tensor:
        """This epoch's visiting order as an int64 tensor, then the epoch's worker base seed: the same
        two draws whatever ``num_workers`` is, so every epoch's order is the same in all modes."""
        if self._custom_batch_sampler:
            raise ValueError("this DataLoader takes its batches from a batch_sampler; it has no single order")
        if self._default_sampler:
            order = randperm(n, generator=self.generator) if self.shuffle else arange(n)
        elif isinstance(self.sampler, RandomSampler):
            order = self.sampler.permutation()
        else:
            order = tensor([int(i) for i in self.sampler], dtype=_core.dtype.int64)
        self._draw_base_seed()
        return order

    def _draw_base_seed(self) -> None:
        # torch draws it at every epoch from the loader's generator, with or without workers.
        self._base_seed = int(randint(0, 2**62, (), generator=self.generator).tolist())  # (.item() would round)

    def _index_batches(self):
        """This epoch's batches as lists of indices (drawing the order once)."""
        if self._custom_batch_sampler:
            batches = list(self.batch_sampler)
            self._draw_base_seed()
            return iter(batches)
        indices = self._order(len(self.dataset)).tolist()
        if self.batch_size is None:
            return iter(indices)
        stop = len(indices) - len(indices) % self.batch_size if self.drop_last else len(indices)
        return (indices[start:start + self.batch_size] for start in range(0, stop, self.batch_size))

    def _gathers_in_cpp(self) -> bool:
        # Only when __getitem__ is TensorDataset's own (a subclass may transform samples), and nothing in a
        # worker would run Python code of the user's (worker_init_fn).
        return (self.collate_fn is None and self.batch_size is not None and not self._custom_batch_sampler
                and type(self.dataset).__getitem__ is TensorDataset.__getitem__
                and (self.num_workers == 0 or self.worker_init_fn is None))

    def __iter__(self) -> Iterator[Any]:
        if self._iterable:
            return self._stream_batches()
        if self._gathers_in_cpp():
            return self._gather_batches()
        if self.num_workers == 0:
            return self._read_batches()
        return self._worker_batches()

    def _gather_batches(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = self._order(n)
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        tensors = list(self.dataset.tensors)
        for start in range(0, stop, self.batch_size):
            yield _core.gather_rows(tensors, order[start:start + self.batch_size])

    def _read_batches(self) -> Iterator[Any]:
        batches = self._index_batches()
        if self.batch_size is None and not self._custom_batch_sampler:
            convert = self.collate_fn or _convert
            for i in batches:
                yield convert(self.dataset[i])
            return
        collate = self.collate_fn or default_collate
        for indices in batches:
            yield collate([self.dataset[i] for i in indices])

    def _stream_batches(self) -> Iterator[Any]:
        """An IterableDataset's samples in the order its iterator yields them, batch_size at a time; with
        workers, each iterates the whole dataset and their batches come in turn (gdcore.data.stream_workers)."""
        self._draw_base_seed()  # as every epoch does, so the generator advances as with a map-style dataset
        if self.num_workers > 0:
            from .stream_workers import StreamWorkers

            collate = self.collate_fn or (_convert if self.batch_size is None else default_collate)
            yield from StreamWorkers(self, self._base_seed, collate).run()
            return
        if self.batch_size is None:
            convert = self.collate_fn or _convert
            for sample in self.dataset:
                yield convert(sample)
            return
        collate = self.collate_fn or default_collate
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield collate(batch)
                batch = []
        if batch and not self.drop_last:
            yield collate(batch)

    def _worker_batches(self) -> Iterator[Any]:
        from .worker import WorkerPool

        if self.batch_size is None and not self._custom_batch_sampler:
            raise ValueError("DataLoader: batch_size=None (no batching) works with num_workers=0 only in gdcore")
        batches = list(self._index_batches())  # the order, then the base seed, as with num_workers=0
        pool = self._pool
        if pool is None or pool.closed:
            pool = WorkerPool(self, self._base_seed)
            if self.persistent_workers:
                self._pool = pool
        try:
            yield from pool.run(batches)
        finally:
            if not self.persistent_workers:
                pool.close()

    def __del__(self) -> None:
        pool = self.__dict__.get("_pool")
        if pool is not None:
            pool.close()

    def __repr__(self) -> str:
        try:
            size = f"{len(self.dataset)} samples"
        except TypeError:  # an IterableDataset without __len__
            size = "a stream of samples"
        return (f"DataLoader({size}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, num_workers={self.num_workers})")


def _check_stream_options(shuffle, sampler, batch_sampler, persistent_workers) -> None:
    """The options an IterableDataset cannot take (its order is its iterator's), as torch's messages."""
    for name, value, unset in (("shuffle", shuffle, shuffle in (None, False)), ("sampler", sampler, sampler is None),
                               ("batch_sampler", batch_sampler, batch_sampler is None)):
        if not unset:
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, but got "
                             f"{name}={value!r}")
    if persistent_workers:
        raise ValueError("DataLoader with IterableDataset: persistent_workers=True is not supported by gdcore (each "
                         "epoch starts its workers afresh, each iterating the whole dataset); leave it False")


def _convert(sample: Any) -> Any:
    """What torch's default_convert does for unbatched samples: numpy arrays become tensors."""
    if isinstance(sample, np.ndarray):
        return tensor(sample)
    return sample
