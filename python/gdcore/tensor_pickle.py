"""Pickling of tensors (``pickle``, ``multiprocessing`` queues, DataLoader workers).

A tensor pickles as a contiguous numpy copy of its values plus its dtype and
``requires_grad`` (numpy's own pickling carries every dtype, and protocol 5 sends the
bytes out of band); it unpickles as a new leaf tensor owning that memory. The graph is
not pickled, as in torch: a result of an op arrives as a leaf that requires grad.
Files for keeping tensors belong to ``gdcore.save``, which never runs code on load.
"""
from __future__ import annotations

import numpy as np

from . import _core
from ._core import Tensor

__all__ = ["install"]


def _rebuild_tensor(array: np.ndarray, dtype_name: str, requires_grad: bool) -> Tensor:
    t = _core.from_numpy(array)
    if t.dtype.name != dtype_name:
        t = t.to(_core._dtype_from(dtype_name))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _reduce_ex(self, protocol):
    values = np.array(self.detach().numpy(), order="C", copy=True)  # (ascontiguousarray makes 0-d arrays 1-d)
    return _rebuild_tensor, (values, self.dtype.name, self.requires_grad)


def install() -> None:
    Tensor.__reduce_ex__ = _reduce_ex
