"""DataLoader: iterate over a dataset in (shuffled) mini-batches of gdcore tensors.

Follows torch.utils.data.DataLoader for the single-process case. Shuffling draws one
``gdcore.randperm`` per epoch from the given generator (or gdcore's default one), so a
seeded generator gives the same sequence of epochs every run and each epoch a new
order. For a ``TensorDataset`` a batch is gathered with one C++ call
(``_core.gather_rows``: one index_select per tensor); other datasets are read sample by
sample and combined by ``collate_fn`` (``default_collate`` unless given).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable, Iterator, Optional

import numpy as np

from .. import _core
from .._core import Generator, Tensor
from ..creation import arange, randperm, tensor
from .dataset import TensorDataset

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
    """Mini-batches of ``dataset``, ``batch_size`` samples each.

    Iterating yields one batch per step: for a dataset of (x, y) pairs a list
    ``[X, Y]`` with X of shape (B, *x.shape) and Y of shape (B, *y.shape), B being
    ``batch_size`` (the last batch may be smaller unless ``drop_last``).
    ``shuffle=True`` visits the samples in a new random order each epoch, drawn from
    ``generator`` (a gdcore.Generator; gdcore's default generator when None, which
    ``gdcore.manual_seed`` seeds). ``len(loader)`` is the number of batches per epoch.
    ``sampler`` (an iterable of indices with a length, e.g. a DistributedSampler) chooses the samples and
    their order instead; it excludes ``shuffle``.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 generator: Optional[Generator] = None, collate_fn: Optional[Callable[[list], Any]] = None,
                 sampler=None) -> None:
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(f"DataLoader: dataset must define __getitem__ and __len__ (a gdcore.data.Dataset), "
                            f"got a {type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size}")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(f"DataLoader: generator must be a gdcore.Generator (e.g. gdcore.Generator(seed)) or None, "
                            f"got a {type(generator).__name__}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {collate_fn!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle (a sampler chooses the "
                             "order; DistributedSampler shuffles with shuffle=True of its own)")
        if sampler is not None and not (hasattr(sampler, "__iter__") and hasattr(sampler, "__len__")):
            raise TypeError(f"DataLoader: sampler must be an iterable of indices with a length, got "
                            f"{type(sampler).__name__}")
        self.sampler = sampler
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self, n: int) -> Tensor:
        if self.sampler is not None:
            return tensor(np.fromiter(iter(self.sampler), dtype=np.int64))
        return randperm(n, generator=self.generator) if self.shuffle else arange(n)

    def __iter__(self) -> Iterator[Any]:
        order = self._order(len(self.dataset))
        n = order.shape[0]
        stop = n - n % self.batch_size if self.drop_last else n
        # Gather in C++ only when __getitem__ is TensorDataset's own (a subclass may transform samples).
        gather = self.collate_fn is None and type(self.dataset).__getitem__ is TensorDataset.__getitem__
        if gather:
            tensors = list(self.dataset.tensors)
            for start in range(0, stop, self.batch_size):
                yield _core.gather_rows(tensors, order[start:start + self.batch_size])
            return
        collate = self.collate_fn or default_collate
        indices = order.tolist()
        for start in range(0, stop, self.batch_size):
            yield collate([self.dataset[i] for i in indices[start:start + self.batch_size]])

    def __repr__(self) -> str:
        return (f"DataLoader({len(self.dataset)} samples, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last})")
