"""Collectives on gdcore tensors, in place on the tensors' own memory, with torch.distributed's names.

A contiguous tensor's ``.numpy()`` is a view of its storage, and mpi4py sends and receives straight from that
buffer: no copy on the way in or out (``all_gather``/``gather``/``scatter`` copy between the one receive block
MPI needs and the caller's list of tensors; ``all_gather_into_tensor`` does not).

Every collective first compares a few numbers per rank (the op, the root, the dtype and the shape) with one
small Allgather, and raises the same ValueError on every rank when they differ. Without it MPI would reduce
mismatched buffers silently (a float32 against a float64 buffer, or the first n elements of a longer one) or
wait forever. The check costs one extra small-message round (about 1-2 us over shared memory; see
docs/scaling.md); DistributedDataParallel checks its parameters once at construction and skips it per step.
"""
from __future__ import annotations

import enum
import struct
from typing import List, Optional

import numpy as np

from .._core import Tensor
from .process_group import ProcessGroup, _mpi, _require

__all__ = ["ReduceOp", "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor", "reduce", "gather",
           "scatter"]


class ReduceOp(enum.Enum):
    """How ``all_reduce``/``reduce`` combine the ranks' tensors (AVG: the sum divided by the world size)."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4


_MPI_OPS: dict = {}
_SHAPE_SLOTS = 8          # shapes up to 8 dims are compared exactly, longer ones by numel and a hash
_DTYPE_NAMES = {np.dtype(name).num: name for name in
                ("float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool", "float16")}


def _mpi_op(op: ReduceOp):
    if not _MPI_OPS:
        MPI = _mpi()
        _MPI_OPS["IN_PLACE"] = MPI.IN_PLACE
        _MPI_OPS.update({ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
                         ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX})
    return _MPI_OPS[op]


def _array(t, what: str) -> np.ndarray:
    """The numpy view of ``t``'s memory that MPI reads and writes."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{what} must be a gdcore.Tensor, got {type(t).__name__}")
    if not t.is_contiguous():
        raise ValueError(f"{what} must be contiguous (collectives work in place on the tensor's memory); pass "
                         "t.contiguous() and copy the result back")
    return t.detach().numpy()


def _check_op(op, what: str) -> ReduceOp:
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{what}: op must be a gdcore.distributed.ReduceOp (e.g. ReduceOp.SUM), got {op!r}")
    return op


_SIG = struct.Struct(f"<{5 + _SHAPE_SLOTS}q")     # error flag, op, root, dtype, ndim, shape slots


def _signature(code: int, root: int, arr: Optional[np.ndarray], local_error: bool) -> bytes:
    if arr is None:
        return _SIG.pack(int(local_error), code, root, -1, -1, *(-1,) * _SHAPE_SLOTS)
    dims = arr.ndim
    shape = arr.shape + (-1,) * (_SHAPE_SLOTS - dims) if dims <= _SHAPE_SLOTS else \
        (arr.size, hash(arr.shape) & 0x7FFFFFFFFFFFFFFF) + (-1,) * (_SHAPE_SLOTS - 2)
    return _SIG.pack(int(local_error), code, root, arr.dtype.num, dims, *shape)


def _describe(row: tuple) -> str:
    if row[3] < 0:
        return "no tensor"
    dims = row[4]
    shape = tuple(row[5:5 + dims]) if dims <= _SHAPE_SLOTS else f"{dims}-d, {row[5]} elements"
    return f"{_DTYPE_NAMES.get(row[3], 'dtype #' + str(row[3]))} {shape}"


def _agree(pg: ProcessGroup, what: str, arr: Optional[np.ndarray], code: int = 0, root: int = -1,
           local_error: Optional[Exception] = None, root_name: str = "root") -> None:
    """Raise the same ValueError on every rank unless all ranks passed the same dtype, shape, op and root.

    A rank whose own arguments were wrong (``local_error``) raises that error; the others raise one naming it.
    The signatures travel as bytes and are compared as bytes: this check is on every collective's path.
    """
    sig = _signature(code, root, arr, local_error is not None)
    size = pg.size()
    table = bytearray(len(sig) * size)
    pg.comm.Allgather(sig, table)
    if local_error is not None:
        raise local_error
    if table == sig * size:
        return
    rows = [_SIG.unpack_from(table, r * _SIG.size) for r in range(size)]
    bad = [r for r, row in enumerate(rows) if row[0]]
    if bad:
        raise ValueError(f"{what}: rank {pg.ranks[bad[0]]} passed invalid arguments (its own error says which); "
                         "every rank raised")
    lines = []
    for r, row in enumerate(rows):
        extra = f", op {ReduceOp(row[1]).name}" if what.endswith("reduce") else ""
        extra += f", {root_name} {row[2]}" if row[2] >= 0 else ""
        lines.append(f"rank {pg.ranks[r]}: {_describe(row)}{extra}")
    raise ValueError(f"{what}: the ranks passed different tensors or arguments, so nothing was sent: "
                     + "; ".join(lines) + ". Every rank must call it with the same dtype, shape and arguments")


def _check_average(op: ReduceOp, arr: np.ndarray, what: str) -> None:
    # After the agreement check, so that every rank (same op, same dtype) raises, and before anything is sent.
    if op is ReduceOp.AVG and arr.dtype.kind != "f":
        raise TypeError(f"{what}: ReduceOp.AVG needs a floating-point tensor, got {arr.dtype}; use ReduceOp.SUM "
                        "and divide")


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group=None) -> None:
    """Combine ``tensor`` over the ranks of ``group``; every rank ends with the result, in place."""
    pg = _require(group, "all_reduce")
    op = _check_op(op, "all_reduce")
    arr = _array(tensor, "all_reduce: tensor")
    _agree(pg, "all_reduce", arr, code=op.value)
    _check_average(op, arr, "all_reduce")
    mpi_op = _mpi_op(op)
    pg.comm.Allreduce(_MPI_OPS["IN_PLACE"], arr, op=mpi_op)
    if op is ReduceOp.AVG:
        arr /= pg.size()


def reduce(tensor: Tensor, dst: int = 0, op: ReduceOp = ReduceOp.SUM, group=None) -> None:
    """Combine ``tensor`` over the ranks; the result lands in rank ``dst``'s tensor (the others' are unchanged)."""
    pg = _require(group, "reduce")
    op = _check_op(op, "reduce")
    arr = _array(tensor, "reduce: tensor")
    root = pg.group_rank(dst, "reduce: dst")
    _agree(pg, "reduce", arr, code=op.value, root=dst, root_name="dst")
    _check_average(op, arr, "reduce")
    MPI = _mpi()
    if pg.rank() == root:
        pg.comm.Reduce(MPI.IN_PLACE, arr, op=_mpi_op(op), root=root)
        if op is ReduceOp.AVG:
            arr /= pg.size()
    else:
        pg.comm.Reduce(arr, None, op=_mpi_op(op), root=root)


def broadcast(tensor: Tensor, src: int = 0, group=None) -> None:
    """Copy rank ``src``'s ``tensor`` into every other rank's ``tensor``, in place."""
    pg = _require(group, "broadcast")
    arr = _array(tensor, "broadcast: tensor")
    root = pg.group_rank(src, "broadcast: src")
    _agree(pg, "broadcast", arr, root=src, root_name="src")
    pg.comm.Bcast(arr, root=root)


def _list_problem(tensors, arr: np.ndarray, count: int, what: str) -> Optional[Exception]:
    """Why ``tensors`` is not a list of ``count`` contiguous tensors shaped like ``arr`` (None when it is)."""
    if not isinstance(tensors, (list, tuple)):
        return TypeError(f"{what} must be a list of {count} tensors, got {type(tensors).__name__}")
    if len(tensors) != count:
        return ValueError(f"{what} must hold one tensor per rank ({count}), got {len(tensors)}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            return TypeError(f"{what}[{i}] must be a gdcore.Tensor, got {type(t).__name__}")
        if tuple(t.shape) != arr.shape or t.detach().numpy().dtype != arr.dtype:
            return ValueError(f"{what}[{i}] has dtype {t.dtype.name} and shape {tuple(t.shape)}; every entry must "
                              f"match the tensor sent ({arr.dtype}, {arr.shape})")
    return None


def _copy_rows(tensors: List[Tensor], block: np.ndarray) -> None:
    for t, row in zip(tensors, block):
        t.detach().numpy()[...] = row      # numpy() of a non-contiguous tensor is a strided view: still in place


def all_gather(tensor_list: List[Tensor], tensor: Tensor, group=None) -> None:
    """Fill ``tensor_list[r]`` with rank r's ``tensor`` on every rank (one tensor per rank, same shape)."""
    pg = _require(group, "all_gather")
    arr = _array(tensor, "all_gather: tensor")
    problem = _list_problem(tensor_list, arr, pg.size(), "all_gather: tensor_list")
    _agree(pg, "all_gather", arr, local_error=problem)
    block = np.empty((pg.size(),) + arr.shape, dtype=arr.dtype)
    pg.comm.Allgather(arr, block)
    _copy_rows(tensor_list, block)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group=None) -> None:
    """Rank r's ``input_tensor`` becomes block r of ``output_tensor`` (shape (world_size * n, ...)), no copy."""
    pg = _require(group, "all_gather_into_tensor")
    arr = _array(input_tensor, "all_gather_into_tensor: input_tensor")
    out = _array(output_tensor, "all_gather_into_tensor: output_tensor")
    problem = None
    if out.dtype != arr.dtype or out.size != arr.size * pg.size():
        problem = ValueError(f"all_gather_into_tensor: output_tensor ({out.dtype}, {out.shape}) must have the input's "
                             f"dtype ({arr.dtype}) and world_size ({pg.size()}) times its {arr.size} elements")
    _agree(pg, "all_gather_into_tensor", arr, local_error=problem)
    pg.comm.Allgather(arr, out)


def _rooted_list(what: str, tensor: Tensor, tensors, root_rank: int, group, list_name: str, root_name: str):
    """What gather and scatter check before they move data: ``tensors`` (``list_name``) holds one tensor per rank,
    shaped like ``tensor``, on the root and is None elsewhere, and every rank agrees on the call.
    Returns (process group, tensor's array, root's rank in the group, whether this rank is the root)."""
    pg = _require(group, what)
    arr = _array(tensor, f"{what}: tensor")
    root = pg.group_rank(root_rank, f"{what}: {root_name}")
    here = pg.rank() == root
    if here:
        problem = _list_problem(tensors, arr, pg.size(), f"{what}: {list_name}")
    else:
        problem = None if tensors is None else ValueError(f"{what}: {list_name} must be None on ranks other than "
                                                          f"{root_name}")
    _agree(pg, what, arr, root=root_rank, local_error=problem, root_name=root_name)
    return pg, arr, root, here


def gather(tensor: Tensor, gather_list: Optional[List[Tensor]] = None, dst: int = 0, group=None) -> None:
    """Rank ``dst`` receives every rank's ``tensor`` into ``gather_list`` (one per rank; None elsewhere)."""
    pg, arr, root, here = _rooted_list("gather", tensor, gather_list, dst, group, "gather_list", "dst")
    block = np.empty((pg.size(),) + arr.shape, dtype=arr.dtype) if here else None
    pg.comm.Gather(arr, block, root=root)
    if here:
        _copy_rows(gather_list, block)


def scatter(tensor: Tensor, scatter_list: Optional[List[Tensor]] = None, src: int = 0, group=None) -> None:
    """Rank r's ``tensor`` receives ``scatter_list[r]`` of rank ``src`` (the list is None on the other ranks)."""
    pg, arr, root, here = _rooted_list("scatter", tensor, scatter_list, src, group, "scatter_list", "src")
    block = np.stack([t.detach().numpy() for t in scatter_list]) if here else None
    pg.comm.Scatter(block, arr, root=root)
