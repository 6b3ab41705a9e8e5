"""``gdcore.nn.parallel``: DistributedDataParallel, data-parallel training over gdcore.distributed (MPI).

Importing this package does not import mpi4py; constructing a DistributedDataParallel needs it.
"""
from __future__ import annotations

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
