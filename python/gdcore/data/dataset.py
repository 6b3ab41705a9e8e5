"""Datasets: the collections a DataLoader draws samples from, as in torch.utils.data.

``Dataset`` is the interface of a map-style dataset (``__getitem__`` and ``__len__``);
``TensorDataset`` wraps tensors that share their first dimension, sample ``i`` being
the tuple of their ``i``-th rows. A DataLoader recognises a TensorDataset and gathers a
whole batch of rows in one C++ call instead of one call per sample. ``IterableDataset`` is
a stream (``__iter__`` only). ``Subset``, ``ConcatDataset`` (also ``a + b``), ``ChainDataset``
and ``random_split`` combine and split datasets.
"""
from __future__ import annotations

import bisect
import math
import numbers
import warnings
from abc import ABC, abstractmethod
from typing import Any, Iterable, Iterator, List, Optional, Sequence

from .._core import Generator, Tensor

__all__ = ["Dataset", "TensorDataset", "IterableDataset", "Subset", "ConcatDataset", "ChainDataset", "random_split"]


class Dataset(ABC):
    """A map-style dataset: subclasses define ``__getitem__(i)`` for ``0 <= i < len(self)``."""

    @abstractmethod
    def __getitem__(self, index: int) -> Any:
        """Sample ``index`` (a tensor, a number, or a tuple/list/dict of them)."""

    @abstractmethod
    def __len__(self) -> int:
        """The number of samples."""

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the rows of ``tensors``: ``dataset[i] == (t[i] for t in tensors)``.

    Every tensor must have at least one dimension and the same size ``n`` along it,
    e.g. ``TensorDataset(X, y)`` with X of shape (n, d) and y of shape (n,).
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor, e.g. TensorDataset(X, y)")
        for position, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {position} is a {type(t).__name__}, not a gdcore.Tensor; "
                                "convert it with gdcore.tensor(...) or gdcore.from_numpy(...)")
            if t.dim() == 0:
                raise ValueError(f"TensorDataset: argument {position} is a 0-d tensor; every tensor needs a first "
                                 "dimension that indexes the samples")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) != 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"TensorDataset: tensors must have the same size in their first dimension (the number "
                             f"of samples), got shapes {shapes}")
        self.tensors = tuple(tensors)

    def __getitem__(self, index: int) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(t.shape)) for t in self.tensors)
        return f"TensorDataset({len(self)} samples; shapes {shapes})"


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__`` (and may define ``__len__``). A DataLoader
    batches what the iterator yields, in order; it takes no sampler and no shuffle."""

    @abstractmethod
    def __iter__(self) -> Iterator[Any]:
        """The samples, one by one."""

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: it has no indexing; iterate over it")

    def __len__(self) -> int:
        raise TypeError(f"object of type {type(self).__name__!r} has no len()")

    def __add__(self, other: "IterableDataset") -> "ChainDataset":
        return ChainDataset([self, other])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``: ``Subset(d, idx)[i] == d[idx[i]]``."""

    def __init__(self, dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return [self.dataset[self.indices[i]] for i in idx]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: List[int]) -> list:
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """The datasets one after the other; ``cumulative_sizes[k]`` is the number of samples in the first k + 1."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset; use ChainDataset")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        if idx < 0:
            if -idx > len(self):
                raise ValueError(f"ConcatDataset: absolute value of index {idx} should not exceed dataset length "
                                 f"{len(self)}")
            idx = len(self) + idx
        if idx >= len(self):
            raise IndexError(f"ConcatDataset: index {idx} is out of range for {len(self)} samples")
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """The iterable datasets one after the other (each iterated in turn)."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset only supports IterableDataset, got a {type(d).__name__}")
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)


def _split_lengths(lengths: Sequence, n: int) -> List[int]:
    """torch's rule: fractions summing to 1 become floor(n * f) each, the remainder spread one by one
    over the splits from the first."""
    values = list(lengths)
    if not values or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        raise TypeError(f"random_split: lengths must be a non-empty sequence of ints or of fractions, got {lengths!r}")
    if math.isclose(sum(values), 1) and sum(values) <= n:  # fractions (as torch decides)
        bad = [v for v in values if not 0 <= v <= 1]
        if bad:
            raise ValueError(f"random_split: fraction {bad[0]} is not between 0 and 1")
        counts = [int(math.floor(n * f)) for f in values]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              UserWarning, stacklevel=3)
        return counts
    if not all(isinstance(v, numbers.Integral) for v in values):
        raise ValueError(f"random_split: lengths must be ints summing to len(dataset) = {n}, or fractions summing "
                         f"to 1, got {values}")
    if any(v < 0 for v in values):
        raise ValueError(f"random_split: lengths must be non-negative, got {values}")
    if sum(values) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(values)}) does not equal the length of the input "
                         f"dataset ({n})")
    return [int(v) for v in values]


def random_split(dataset, lengths: Sequence, generator: Optional[Generator] = None) -> List[Subset]:
    """Splits ``dataset`` into non-overlapping random Subsets of the given lengths (ints summing to
    len(dataset), or fractions summing to 1). The permutation is one ``gdcore.randperm`` drawn from
    ``generator`` (gdcore's default generator when None)."""
    from ..creation import randperm

    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"random_split: generator must be a gdcore.Generator or None, got a {type(generator).__name__}")
    counts = _split_lengths(lengths, len(dataset))
    order = randperm(sum(counts), generator=generator).tolist()
    out, start = [], 0
    for c in counts:
        out.append(Subset(dataset, order[start:start + c]))
        start += c
    return out
