"""When a DistributedDataParallel model's gradients are averaged: right after the ``backward()`` that made them.

gdcore's backward is one C++ loop that never calls into Python (see the README's design section), so there is
no per-gradient hook to start an all-reduce from, as torch's DDP has. Instead the bindings run one post-backward
hook (``_core._set_post_backward_hook``) after every backward that fills ``.grad`` (``Tensor.backward`` and
``gdcore.autograd.backward``; not ``autograd.grad``, which torch's DDP does not support either). A DDP forward
with gradients on (outside ``no_sync``) sets it; it averages the gradient buckets of every DDP model whose
forward ran since its last reduction, in the order their forwards ran (the same on every rank, since every rank
runs the same program), and unsets itself, so a backward without a pending DDP model costs nothing.

Under ``gdcore.compile`` the hook runs inside the capture, after the recorded backward: the all-reduce it starts
(``_core._collective_``) records itself as a step of the program, and replays run that step, not this hook.
"""
from __future__ import annotations

import weakref
from typing import List

from ... import _core

_pending: List[weakref.ref] = []  # DDP models with a forward since their last reduction, in forward order


def mark_pending(ddp) -> None:
    """``ddp``'s forward ran with gradients on: reduce its buckets after the next backward."""
    if not _pending:
        _core._set_post_backward_hook(_sync_pending)
    if not any(ref() is ddp for ref in _pending):
        _pending.append(weakref.ref(ddp))      # weak: a model dropped between forward and backward is let go


def _sync_pending() -> None:
    models = [ref() for ref in _pending]
    _pending.clear()
    _core._set_post_backward_hook(None)
    for ddp in models:
        if ddp is not None:
            ddp._reduce_gradients()
