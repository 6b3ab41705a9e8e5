"""DistributedSampler: each rank's share of a dataset's indices, as torch.utils.data.DistributedSampler.

The indices (shuffled with a generator seeded ``seed + epoch``, or in order) are padded by repeating them from
the start until their number divides by the number of ranks (or cut down to it with ``drop_last``); rank r
takes every ``num_replicas``-th index starting at r. Every rank computes the same list from the same seed, so
nothing is communicated; call ``set_epoch(epoch)`` before each epoch for a new order. The permutation comes from
gdcore's generator, so a shuffled order differs from torch's; the assignment of positions to ranks is torch's.
"""
from __future__ import annotations

import math
from typing import Iterator, Optional

from .._core import Generator
from ..creation import randperm
from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _default(value, what: str) -> int:
    if value is not None:
        return value
    try:
        from .. import distributed as dist
    except ImportError as err:
        raise RuntimeError(f"DistributedSampler: pass {what}= explicitly, or install mpi4py "
                           '(pip install "gdcore[mpi]") and call gdcore.distributed.init_process_group()') from err
    if not dist.is_initialized():
        raise RuntimeError(f"DistributedSampler: {what} is None and the default process group is not initialized; "
                           "call gdcore.distributed.init_process_group() first or pass it explicitly")
    return dist.get_world_size() if what == "num_replicas" else dist.get_rank()


def _int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"DistributedSampler: {what} must be an int, got {value!r}")
    return value


class DistributedSampler(Sampler):
    """Yields this rank's indices of ``dataset``: ``len(sampler)`` of them per epoch.

    ``num_replicas`` and ``rank`` default to the process group's world size and rank. Use it as
    ``DataLoader(dataset, batch_size=b, sampler=sampler)`` (then each rank's batches hold b samples, the global
    batch num_replicas * b) and call ``sampler.set_epoch(epoch)`` at the start of every epoch.
    """

    def __init__(self, dataset, num_replicas: Optional[int] = None, rank: Optional[int] = None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False) -> None:
        if not hasattr(dataset, "__len__"):
            raise TypeError(f"DistributedSampler: dataset must have a length, got a {type(dataset).__name__}")
        num_replicas = _int(_default(num_replicas, "num_replicas"), "num_replicas")
        rank = _int(_default(rank, "rank"), "rank")
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be at least 1, got {num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        super().__init__(dataset)
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.shuffle = bool(shuffle)
        self.seed = _int(seed, "seed")
        self.drop_last = bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)   # drop the tail so all ranks get as many
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch, and with it the shuffled order (the generator is seeded ``seed + epoch``)."""
        self.epoch = _int(epoch, "epoch")

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            indices = randperm(n, generator=Generator(self.seed + self.epoch)).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            elif indices:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return (f"DistributedSampler({len(self.dataset)} samples, rank {self.rank} of {self.num_replicas}, "
                f"shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last}, epoch={self.epoch})")
