"""The collectives that gdcore's C++ core runs for DistributedDataParallel, eagerly and inside compiled steps.

DistributedDataParallel averages its gradient buckets (and broadcasts its buffers) through
``_core._collective_``, one C++ function that gdcore.compile records as a step of a captured program, so a
compiled DDP step all-reduces where the eager one does (cpp/include/gdcore/collective.hpp). The core never links
MPI; this module hands it the collective in one of two ways:

- **direct** (the default): the address of ``MPI_Allreduce``/``MPI_Bcast`` in the MPI library that mpi4py has
  loaded into this process (found in ``/proc/self/maps`` and opened with ctypes, which returns the library
  already loaded, never a second copy), and the handles of the communicator, datatypes and op from
  ``MPI._handleof``. The C++ side calls MPI directly: no GIL, no Python, so a lowered replay and ``run_epoch`` run
  without the interpreter. Handles are pointers in Open MPI and ints in MPICH; ``MPI._sizeof`` says which.
- **through Python**: a callable running ``comm.Allreduce(MPI.IN_PLACE, view)`` on a numpy view of the bucket,
  called from C++ with the GIL taken for that call only. Used when the direct way is not available (no
  ``/proc``, an MPI library that is not a shared ``libmpi``, unusual handle sizes) or with
  ``GDCORE_DISTRIBUTED_NATIVE=0``. Same MPI call, same bytes; a few microseconds more per bucket.

Both sum with MPI on the bucket's own memory; the average is then one IEEE division per element in C++ (the
bytes numpy's ``array /= world_size`` gives).
"""
from __future__ import annotations

import ctypes
import os
import weakref
from typing import Optional, Tuple

from .. import _core
from .process_group import ProcessGroup, _mpi

__all__ = ["Collectives", "collectives_for"]


def _libmpi_path() -> Optional[str]:
    """The MPI library mpi4py loaded into this process (libmpi.so.*), or None when it cannot be told."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)  # address perms offset device inode [path]
                path = fields[5].strip() if len(fields) == 6 else ""
                if os.path.basename(path).startswith("libmpi.so"):
                    return path
    except OSError:
        return None
    return None


_functions: Optional[Tuple[int, int]] = None  # (MPI_Allreduce, MPI_Bcast) addresses, found once


def _mpi_functions() -> Optional[Tuple[int, int]]:
    global _functions
    if _functions is None:
        path = _libmpi_path()
        if path is None:
            return None
        try:
            lib = ctypes.CDLL(path)  # already loaded by mpi4py: the same library, its refcount raised
            _functions = (ctypes.cast(lib.MPI_Allreduce, ctypes.c_void_p).value,
                          ctypes.cast(lib.MPI_Bcast, ctypes.c_void_p).value)
        except (OSError, AttributeError):
            return None
    return _functions


class Collectives:
    """The all-reduce (sum) and the broadcast from ``root`` that DDP runs on its process group's communicator.

    ``direct`` says which way was taken (see the module docstring).
    """

    def __init__(self, pg: ProcessGroup, root: int, force_python: bool = False) -> None:
        MPI = _mpi()
        comm = pg.comm
        self._register(pg)
        functions = None if force_python or os.environ.get("GDCORE_DISTRIBUTED_NATIVE", "1") == "0" \
            else _mpi_functions()
        handle_size = MPI._sizeof(MPI.Comm)
        if functions is not None and handle_size in (4, 8) and all(
                MPI._sizeof(t) == handle_size for t in (MPI.Datatype, MPI.Op)):
            allreduce, bcast = functions
            self.all_reduce_sum = _core._mpi_all_reduce_sum(
                allreduce, MPI._handleof(comm), int(MPI.IN_PLACE), MPI._handleof(MPI.FLOAT),
                MPI._handleof(MPI.DOUBLE), MPI._handleof(MPI.SUM), handle_size)
            self.broadcast = _core._mpi_broadcast(bcast, MPI._handleof(comm), MPI._handleof(MPI.BYTE), root,
                                                  handle_size)
            self.direct = True
            return
        in_place, sum_op = MPI.IN_PLACE, MPI.SUM

        def all_reduce(view):
            comm.Allreduce(in_place, view, op=sum_op)

        def broadcast(view):
            comm.Bcast(view.view("uint8"), root=root)

        self.all_reduce_sum = _core._python_collective("all_reduce", all_reduce)
        self.broadcast = _core._python_collective("broadcast", broadcast)
        self.direct = False

    def _register(self, pg: ProcessGroup) -> None:
        # destroy_process_group closes them (ProcessGroup.close_collectives): a replay then raises instead of
        # calling MPI on a freed communicator.
        if not hasattr(pg, "_collectives"):
            pg._collectives = weakref.WeakSet()
        pg._collectives.add(self)

    def close(self) -> None:
        self.all_reduce_sum.close()
        self.broadcast.close()


def collectives_for(pg: ProcessGroup, root: int) -> Collectives:
    """The collectives for ``pg`` (a new set per DDP model: each holds its communicator's handle)."""
    return Collectives(pg, root)
