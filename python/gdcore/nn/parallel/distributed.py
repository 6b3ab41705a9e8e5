"""DistributedDataParallel: the same model on every rank, each rank a slice of the batch, gradients averaged.

At construction the ranks check that they hold the same parameters (names, shapes, dtypes: one small
Allgather), then take rank 0's parameter and buffer values. The gradients live in flat buckets: one tensor per
dtype and up to ``bucket_cap_mb`` MiB, filled in reverse parameter order (torch's; the last layers' gradients
are the first ready), and each parameter's ``.grad`` is a view into its bucket. ``backward()`` accumulates into
those views in place, so after it every bucket already holds this rank's gradients, and one in-place
all-reduce per bucket (on the bucket's own memory) averages them: nothing is copied, however many parameters.

When the average happens: right after the ``backward()`` that follows a forward (backward_sync.py says how).
Ranks stay bit-identical: every rank receives the same summed bytes from MPI and divides them by the same
world size, and the optimizers then run the same arithmetic on the same numbers.

The all-reduce (and the buffer broadcast) runs in C++ (``_core._collective_``, distributed/native.py says how it
reaches MPI without the core linking it), so ``gdcore.compile`` records it as a step of a captured training
step: replays, lowered replays and ``run_epoch`` average the gradients exactly where the eager step does.
"""
from __future__ import annotations

import contextlib
from typing import Iterator, List, Optional

import numpy as np

from ... import _core
from ..._core import Tensor
from ...creation import zeros
from ...grad_mode import no_grad
from ..module import Module
from . import backward_sync

__all__ = ["DistributedDataParallel"]


class _Bucket:
    """A flat gradient tensor and the parameters whose ``.grad`` are views into it."""

    def __init__(self, params: List[Tensor]) -> None:
        numel = sum(p.numel() for p in params)
        self.flat = zeros(numel, dtype=params[0].dtype)
        self.array = self.flat.numpy()                  # MPI's view of the same memory
        self.params = params
        self.views: List[Tensor] = []
        offset = 0
        for p in params:
            n = p.numel()
            self.views.append(self.flat[offset:offset + n].reshape(list(p.shape)))
            offset += n

    def bind(self, zero_unbound: bool) -> None:
        """Point every parameter's ``.grad`` at its view: a gradient held elsewhere is copied in, a missing one
        becomes zeros when ``zero_unbound`` (backward then accumulates straight into the bucket)."""
        with no_grad():
            for p, view in zip(self.params, self.views):
                g = p.grad
                if g is view:
                    continue
                if g is None:
                    if not zero_unbound:
                        continue
                    view.zero_()
                else:
                    view.copy_(g.detach())
                p.grad = view


class DistributedDataParallel(Module):
    """Wraps ``module`` for data-parallel training over gdcore.distributed (MPI).

    Every rank builds the same model, wraps it and feeds it its own part of each batch (see
    ``gdcore.data.DistributedSampler``); after ``loss.backward()`` every parameter's ``.grad`` holds the
    average over the ranks, so the optimizer steps keep the ranks bit-identical. ``module`` is the wrapped
    model (its ``state_dict`` keys lack the ``module.`` prefix of this wrapper's, as in torch).

    ``broadcast_buffers``: also copy rank 0's buffers to every rank at each forward. ``bucket_cap_mb``: the
    size of a gradient bucket (fewer, larger all-reduces pay the per-message latency less often).
    ``no_sync()``: a context in which backward passes accumulate locally, for gradient accumulation; the
    first backward after it averages the accumulated sum. Gradients of parameters that a forward did not use
    are zeros, not None. ``device_ids`` and ``output_device`` exist for torch's signature: gdcore runs on the
    CPU, so they must be None.
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None, bucket_cap_mb: float = 25) -> None:
        from ... import distributed as dist      # mpi4py only when DDP is used, never on import gdcore
        from ...distributed.process_group import _require
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a gdcore.nn.Module, got {type(module).__name__}")
        if device_ids is not None or output_device is not None:
            raise ValueError("DistributedDataParallel: device_ids and output_device must be None (gdcore runs on "
                             "the CPU, one process per rank)")
        if dim != 0:
            raise ValueError(f"DistributedDataParallel: dim must be 0 (the batch dimension), got {dim}")
        if isinstance(bucket_cap_mb, bool) or not isinstance(bucket_cap_mb, (int, float)) or not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be a positive number, got {bucket_cap_mb!r}")
        pg = _require(process_group, "DistributedDataParallel")
        self.module = module
        object.__setattr__(self, "broadcast_buffers", bool(broadcast_buffers))
        object.__setattr__(self, "process_group", process_group)
        object.__setattr__(self, "require_backward_grad_sync", True)
        object.__setattr__(self, "_pg", pg)
        object.__setattr__(self, "_dist", dist)
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._check_same_parameters(named + [(f"buffer {n}", b) for n, b in module.named_buffers()])
        with no_grad():
            root = pg.ranks[0]
            for _, t in list(module.named_parameters()) + list(module.named_buffers()):
                dist.broadcast(t, src=root, group=process_group)
        from ...distributed.native import collectives_for
        object.__setattr__(self, "_collectives", collectives_for(pg, root=0))   # group rank 0 is ranks[0]
        object.__setattr__(self, "_buckets", self._make_buckets([p for _, p in named], bucket_cap_mb))
        for bucket in self._buckets:
            bucket.bind(zero_unbound=False)

    def _check_same_parameters(self, named) -> None:
        # One Allgather of a digest of (name, shape, dtype) of every parameter; on a mismatch every rank raises,
        # naming its own parameters (the ranks' printed errors side by side show the difference).
        description = ";".join(f"{n}:{tuple(p.shape)}:{p.dtype.name}" for n, p in named)
        digest = np.frombuffer(_digest(description), dtype=np.int64).copy()
        pg = self._pg
        table = np.empty((pg.size(), digest.size), dtype=np.int64)
        pg.comm.Allgather(digest, table)
        if (table == digest).all():
            return
        raise ValueError("DistributedDataParallel: the ranks' models differ (parameter names, shapes or dtypes); "
                         f"rank {pg.ranks[pg.rank()]} has {len(named)} parameters and buffers: {description[:400]}. Build the "
                         "same model on every rank before wrapping it")

    @staticmethod
    def _make_buckets(params: List[Tensor], cap_mb: float) -> List[_Bucket]:
        cap = int(cap_mb * 1024 * 1024)
        buckets, current, size, dtype = [], [], 0, None
        for p in reversed(params):
            nbytes = p.numel() * np.dtype(p.dtype.name).itemsize
            if current and (p.dtype != dtype or size + nbytes > cap):
                buckets.append(_Bucket(current))
                current, size = [], 0
            current.append(p)
            size += nbytes
            dtype = p.dtype
        if current:
            buckets.append(_Bucket(current))
        return buckets

    # ---- forward and the gradient average --------------------------------------------------------------

    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers:
            buffers = [b for _, b in self.module.named_buffers()]
            if buffers:
                with no_grad():
                    for b in buffers:   # (their names, shapes and dtypes were checked at construction)
                        if b.is_contiguous():
                            _core._collective_(b, self._collectives.broadcast)
                        else:
                            self._dist.broadcast(b, src=self._pg.ranks[0], group=self.process_group)
        if _core.is_grad_enabled():
            for bucket in self._buckets:
                bucket.bind(zero_unbound=True)
            if self.require_backward_grad_sync:
                backward_sync.mark_pending(self)
        return self.module(*inputs, **kwargs)

    def _reduce_gradients(self) -> None:
        """Average every bucket over the ranks, in place (called after backward; recorded by gdcore.compile)."""
        size, all_reduce = self._pg.size(), self._collectives.all_reduce_sum
        for bucket in self._buckets:
            bucket.bind(zero_unbound=True)             # a gradient replaced or cleared since forward
            _core._collective_(bucket.flat, all_reduce, size)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes inside accumulate gradients on each rank without averaging them."""
        previous = self.require_backward_grad_sync
        object.__setattr__(self, "require_backward_grad_sync", False)
        try:
            yield
        finally:
            object.__setattr__(self, "require_backward_grad_sync", previous)

    def __repr__(self) -> str:
        return f"DistributedDataParallel(\n  (module): {_indent(repr(self.module))}\n)"


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")


def _digest(text: str) -> bytes:
    import hashlib
    return hashlib.sha256(text.encode()).digest()
