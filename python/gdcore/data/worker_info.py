"""``get_worker_info()``: which DataLoader worker process this is (None in the main process).

Kept apart from ``gdcore.data.worker`` (the processes themselves), which loads only when a
DataLoader starts workers.
"""
from __future__ import annotations

from typing import Any, Optional

__all__ = ["WorkerInfo", "get_worker_info"]


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: its ``id`` (0..num_workers-1),
    ``num_workers``, ``seed`` (base_seed + id) and its copy of the ``dataset`` (read-only fields)."""

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id: int, num_workers: int, seed: int, dataset: Any) -> None:  # noqa: A002
        for name, value in zip(self.__slots__, (id, num_workers, seed, dataset)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"Cannot assign attributes to WorkerInfo objects (tried {name!r})")

    def __repr__(self) -> str:
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, dataset={self.dataset!r})"


_current: Optional[WorkerInfo] = None  # set by the worker loop (gdcore.data.worker)


def get_worker_info() -> Optional[WorkerInfo]:
    """The WorkerInfo of this DataLoader worker process, or None in the main process."""
    return _current
