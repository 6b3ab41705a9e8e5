"""The process group: which processes train together, and what happens when one of them fails.

``init_process_group(backend="mpi")`` reads the world from ``mpiexec`` (every rank calls it), keeps a private
duplicate of MPI_COMM_WORLD for gdcore's collectives (so they never match a message of the user's own mpi4py
calls), and installs an excepthook that aborts the whole job when a rank dies of an uncaught exception: the
other ranks would otherwise wait forever in their next collective. mpi4py's ``python -m mpi4py`` does the
same. It also keeps gdcore's kernels to one thread per rank when several ranks share a machine, so ranks do
not fight over the cores.
"""
from __future__ import annotations

import os
import sys
from typing import Optional, Sequence

__all__ = ["ProcessGroup", "GroupMember", "init_process_group", "destroy_process_group", "is_initialized",
           "is_available", "is_mpi_available", "get_rank", "get_world_size", "barrier", "new_group"]


class ProcessGroup:
    """A set of ranks and the MPI communicator their collectives run on.

    ``ranks`` are the members' ranks in the default (world) group, in group-rank order: collectives take
    ``src``/``dst`` as world ranks, as torch does, and translate them here.
    """

    def __init__(self, comm, ranks: Sequence[int]) -> None:
        self.comm = comm
        self.ranks = tuple(ranks)
        self._group_rank = {r: i for i, r in enumerate(self.ranks)}

    def rank(self) -> int:
        return self.comm.Get_rank()

    def size(self) -> int:
        return self.comm.Get_size()

    def group_rank(self, world_rank: int, what: str) -> int:
        """The rank inside this group of the process with world rank ``world_rank``."""
        if isinstance(world_rank, bool) or not isinstance(world_rank, int):
            raise TypeError(f"{what} must be an int rank, got {world_rank!r}")
        if world_rank not in self._group_rank:
            raise ValueError(f"{what}={world_rank} is not a rank of this group (its ranks are {list(self.ranks)})")
        return self._group_rank[world_rank]

    def close_collectives(self) -> None:
        """Close the C++ collectives made for this group (distributed/native.py) before its communicator goes."""
        for collectives in list(getattr(self, "_collectives", ())):
            collectives.close()

    def __repr__(self) -> str:
        return f"ProcessGroup(ranks={list(self.ranks)})"


class GroupMember:
    """torch's names: ``WORLD`` (None means the default group) and what ``new_group`` gives non-members."""

    WORLD = None
    NON_GROUP_MEMBER = object()


_world: Optional[ProcessGroup] = None
_previous_excepthook = None


def is_available() -> bool:
    """True: this package imported, so mpi4py is there (torch.distributed.is_available)."""
    return True


def is_mpi_available() -> bool:
    return True


def is_initialized() -> bool:
    """Whether ``init_process_group`` ran (and ``destroy_process_group`` did not since)."""
    return _world is not None


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as err:  # mpi4py present but no MPI library to load
        raise ImportError(f'gdcore.distributed: mpi4py could not load an MPI library ({err}); pip install '
                          '"gdcore[mpi]" installs Open MPI from a wheel') from err
    return MPI


def init_process_group(backend: Optional[str] = "mpi", *, world_size: int = -1, rank: int = -1) -> None:
    """Join the job started by ``mpiexec``/``gdcore launch``: every rank calls this once, before any collective.

    ``backend`` must be "mpi" (or None); ``world_size`` and ``rank``, when given, are checked against what
    mpiexec assigned (MPI decides them, not the caller).
    """
    global _world, _previous_excepthook
    if backend is not None and str(backend).lower() != "mpi":
        raise ValueError(f"init_process_group: gdcore runs its collectives on MPI; use backend='mpi' (got "
                         f"{backend!r}) and start the processes with gdcore launch -n N or mpiexec -n N")
    if _world is not None:
        raise RuntimeError("init_process_group: trying to initialize the default process group twice; call "
                           "destroy_process_group() first")
    MPI = _mpi()
    world = MPI.COMM_WORLD
    if world_size not in (-1, world.Get_size()):
        raise ValueError(f"init_process_group: world_size={world_size} but mpiexec started {world.Get_size()} "
                         "processes; leave world_size out (MPI knows it)")
    if rank not in (-1, world.Get_rank()):
        raise ValueError(f"init_process_group: rank={rank} but MPI gave this process rank {world.Get_rank()}; "
                         "leave rank out (MPI assigns it)")
    _one_thread_per_core()
    _world = ProcessGroup(world.Dup(), range(world.Get_size()))
    if world.Get_size() > 1 and _previous_excepthook is None:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_uncaught


def _one_thread_per_core() -> None:
    # Ranks on one machine each split large kernels over threads; more threads than cores in all makes every
    # rank wait for the others' threads. Give each rank its share of the cores (at least one). The launcher
    # says how many ranks share this machine (Open MPI, MPICH); asking MPI (Split_type) would be a collective.
    from .. import _core
    text = os.environ.get("OMPI_COMM_WORLD_LOCAL_SIZE") or os.environ.get("MPI_LOCALNRANKS") or "1"
    per_machine = int(text) if text.isdigit() else 1
    if per_machine > 1:
        _core._set_kernel_threads(max(1, min(_core._kernel_threads(), (os.cpu_count() or 1) // per_machine)))


def _abort_on_uncaught(exc_type, exc, tb) -> None:
    """The excepthook of a rank in a job of several: print the traceback, then end every rank."""
    (_previous_excepthook or sys.__excepthook__)(exc_type, exc, tb)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        _mpi().COMM_WORLD.Abort(1)


def destroy_process_group(group=None) -> None:
    """Leave the default group (or free ``group``); MPI itself stays up until the process ends."""
    global _world, _previous_excepthook
    if group is not None and group is not _world:
        if isinstance(group, ProcessGroup):
            group.close_collectives()
            group.comm.Free()
        return
    pg = _require(None, "destroy_process_group")
    _world = None
    pg.close_collectives()
    pg.comm.Free()
    if _previous_excepthook is not None and sys.excepthook is _abort_on_uncaught:
        sys.excepthook = _previous_excepthook
    _previous_excepthook = None


def _require(group, what: str) -> ProcessGroup:
    """The group a call runs on: ``group`` or the default one; raises when there is none."""
    if _world is None:
        raise RuntimeError(f"{what}: the default process group is not initialized; call "
                           "gdcore.distributed.init_process_group(backend='mpi') first, in every process "
                           "(started with gdcore launch -n N or mpiexec -n N)")
    if group is None:
        return _world
    if group is GroupMember.NON_GROUP_MEMBER:
        raise ValueError(f"{what}: this rank is not a member of the group (new_group gave it NON_GROUP_MEMBER)")
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"{what}: group must be a ProcessGroup from new_group() or None, got {type(group).__name__}")
    return group


def get_rank(group=None) -> int:
    """This process's rank in ``group`` (default: the world), 0 .. size-1; -1 for a non-member, as torch."""
    if group is GroupMember.NON_GROUP_MEMBER:
        _require(None, "get_rank")
        return -1
    return _require(group, "get_rank").rank()


def get_world_size(group=None) -> int:
    """The number of processes in ``group`` (default: the world); -1 for a non-member, as torch."""
    if group is GroupMember.NON_GROUP_MEMBER:
        _require(None, "get_world_size")
        return -1
    return _require(group, "get_world_size").size()


def barrier(group=None) -> None:
    """Wait until every rank of ``group`` has called barrier."""
    _require(group, "barrier").comm.Barrier()


def new_group(ranks: Optional[Sequence[int]] = None) -> object:
    """A group of the given world ranks (all when None). Every rank of the world must call it, members or not;
    non-members get ``GroupMember.NON_GROUP_MEMBER``."""
    world = _require(None, "new_group")
    size = world.size()
    chosen = list(range(size)) if ranks is None else list(ranks)
    for r in chosen:
        if isinstance(r, bool) or not isinstance(r, int) or not 0 <= r < size:
            raise ValueError(f"new_group: ranks must be ints in [0, {size}), got {r!r}")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"new_group: ranks must not repeat, got {chosen}")
    if not chosen:
        raise ValueError("new_group: needs at least one rank")
    MPI = _mpi()
    members = world.comm.Get_group().Incl(chosen)
    comm = world.comm.Create(members)
    members.Free()
    if comm == MPI.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    return ProcessGroup(comm, chosen)
