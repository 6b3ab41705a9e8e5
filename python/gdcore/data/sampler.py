"""Samplers: the order in which a DataLoader visits a dataset's indices, as torch.utils.data's.

A ``Sampler`` yields indices; a ``BatchSampler`` groups another sampler's indices into
lists, one per batch. ``RandomSampler`` draws one ``gdcore.randperm`` per pass from its
generator (gdcore's default one when None), the same draw the DataLoader's ``shuffle=True``
makes, so both give the same order for the same seed.
"""
from __future__ import annotations

from typing import Iterable, Iterator, List, Optional, Sequence

from .._core import Generator
from ..creation import randint, randperm, tensor

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler",
           "WeightedRandomSampler"]


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices) and usually ``__len__``."""

    def __init__(self, data_source=None) -> None:
        pass

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _check_generator(generator, who: str):
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{who}: generator must be a gdcore.Generator (e.g. gdcore.Generator(seed)) or None, got a "
                        f"{type(generator).__name__}")
    return generator


class RandomSampler(Sampler):
    """A new random permutation of the indices on every pass (``num_samples`` of them, from as many
    permutations as needed), or ``num_samples`` uniform draws with ``replacement=True``."""

    def __init__(self, data_source, replacement: bool = False, num_samples: Optional[int] = None,
                 generator: Optional[Generator] = None) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, but got "
                            f"replacement={replacement!r}")
        if num_samples is not None and (isinstance(num_samples, bool) or not isinstance(num_samples, int)
                                        or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = _check_generator(generator, "RandomSampler")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def permutation(self):
        """One pass as an int64 tensor (what the DataLoader slices its batches from)."""
        n, wanted = len(self.data_source), self.num_samples
        if self.replacement:
            return randint(0, n, (wanted,), generator=self.generator)
        if wanted <= n:
            return randperm(n, generator=self.generator)[:wanted]
        passes = [randperm(n, generator=self.generator).tolist() for _ in range(-(-wanted // n))]
        return tensor([i for p in passes for i in p][:wanted])

    def __iter__(self) -> Iterator[int]:
        return iter(self.permutation().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a random order each pass."""

    def __init__(self, indices: Sequence[int], generator: Optional[Generator] = None) -> None:
        self.indices = list(indices)
        self.generator = _check_generator(generator, "SubsetRandomSampler")

    def __iter__(self) -> Iterator[int]:
        for i in randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler`` (the last one shorter unless ``drop_last``)."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[List[int]]:
        batch: List[int] = []
        for index in self.sampler:
            batch.append(int(index))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices in [0, len(weights)), index i drawn with probability proportional to
    ``weights[i]``: independently with ``replacement=True``, else without repeats (as successive draws
    from the remaining weights). Uniform numbers come from ``generator`` (gdcore's default one when None).
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True,
                 generator: Optional[Generator] = None) -> None:
        import numpy as np

        from .._core import Tensor

        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError(f"WeightedRandomSampler: num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples!r}")
        if not isinstance(replacement, bool):
            raise ValueError(f"WeightedRandomSampler: replacement should be a boolean value, but got "
                             f"replacement={replacement!r}")
        w = weights.detach().numpy() if isinstance(weights, Tensor) else weights
        try:
            w = np.asarray(w, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"WeightedRandomSampler: weights must be a sequence of numbers, got {weights!r}") from None
        if w.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence but given weights have shape "
                             f"{w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
            raise ValueError(f"WeightedRandomSampler: weights must be finite, non-negative and not all zero, got "
                             f"{w.tolist() if w.size <= 10 else 'an array with such values'}")
        self.weights = tensor(w, dtype=_float64())
        self._w = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = _check_generator(generator, "WeightedRandomSampler")

    def __iter__(self) -> Iterator[int]:
        import numpy as np

        from ..creation import rand

        w, k = self._w, self.num_samples
        if self.replacement:
            u = rand(k, generator=self.generator, dtype=_float64()).numpy()
            cdf = np.cumsum(w)
            picked = np.searchsorted(cdf / cdf[-1], u, side="right")
        else:
            if k > np.count_nonzero(w):
                raise RuntimeError(f"WeightedRandomSampler: cannot draw {k} samples without replacement from "
                                   f"{np.count_nonzero(w)} indices of non-zero weight")
            # Efraimidis and Spirakis (2006): the k largest keys log(u_i) / w_i are a weighted draw without repeats.
            u = rand(len(w), generator=self.generator, dtype=_float64()).numpy()
            with np.errstate(divide="ignore"):
                keys = np.where(w > 0, np.log(u) / np.where(w > 0, w, 1.0), -np.inf)
            picked = np.argsort(-keys, kind="stable")[:k]
        return iter(picked.tolist())

    def __len__(self) -> int:
        return self.num_samples


def _float64():
    from .. import _core

    return _core.dtype.float64
