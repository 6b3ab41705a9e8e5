"""When a DistributedDataParallel model's gradients are averaged: right after the ``backward()`` that made them.

gdcore's backward is one C++ loop that never calls into Python (see the README's design section), so there is
no per-gradient hook to start an all-reduce from, as torch's DDP has. Instead the first DDP model built wraps
the two ways to run a backward that fills ``.grad`` (``Tensor.backward`` and ``gdcore.autograd.backward``):
after the original returns, every DDP model whose forward ran since its last reduction (outside ``no_sync``)
averages its gradient buckets, in the order their forwards ran (the same on every rank, since every rank runs
the same program). Without a pending DDP model the wrapper costs one Python call and a list check.
``gdcore.autograd.grad`` fills no ``.grad`` and is left alone, as torch's DDP does not support it either.
"""
from __future__ import annotations

import weakref
from typing import List

from ... import _core
from ... import autograd as _autograd
from ...autograd import functional as _autograd_functional

_pending: List[weakref.ref] = []  # DDP models with a forward since their last reduction, in forward order
_installed = False


def mark_pending(ddp) -> None:
    """``ddp``'s forward ran with gradients on: reduce its buckets after the next backward."""
    if not _installed:
        _install()
    if not any(ref() is ddp for ref in _pending):
        _pending.append(weakref.ref(ddp))      # weak: a model dropped between forward and backward is let go


def _sync_pending() -> None:
    models = [ref() for ref in _pending]
    _pending.clear()
    for ddp in models:
        if ddp is not None:
            ddp._reduce_gradients()


def _install() -> None:
    global _installed
    tensor_backward = _core.Tensor.backward
    autograd_backward = _autograd_functional.backward

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        tensor_backward(self, gradient, retain_graph, create_graph)
        if _pending:
            _sync_pending()

    def autograd_backward_then_sync(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
        autograd_backward(tensors, grad_tensors, retain_graph, create_graph)
        if _pending:
            _sync_pending()

    backward.__doc__ = tensor_backward.__doc__
    autograd_backward_then_sync.__doc__ = autograd_backward.__doc__
    _core.Tensor.backward = backward
    _autograd_functional.backward = autograd_backward_then_sync
    _autograd.backward = autograd_backward_then_sync
    _installed = True
