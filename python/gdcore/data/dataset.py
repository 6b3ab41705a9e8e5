"""Datasets: the indexable collections a DataLoader draws samples from.

``Dataset`` is the interface (``__getitem__`` and ``__len__``, as in torch.utils.data);
``TensorDataset`` wraps tensors that share their first dimension, sample ``i`` being
the tuple of their ``i``-th rows. A DataLoader recognises a TensorDataset and gathers a
whole batch of rows in one C++ call instead of one call per sample.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from .._core import Tensor

__all__ = ["Dataset", "TensorDataset"]


class Dataset(ABC):
    """A map-style dataset: subclasses define ``__getitem__(i)`` for ``0 <= i < len(self)``."""

    @abstractmethod
    def __getitem__(self, index: int) -> Any:
        """Sample ``index`` (a tensor, a number, or a tuple/list/dict of them)."""

    @abstractmethod
    def __len__(self) -> int:
        """The number of samples."""


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
