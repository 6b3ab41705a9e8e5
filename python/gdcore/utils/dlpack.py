"""``torch.utils.dlpack``'s two functions, so that ``from torch.utils.dlpack import to_dlpack``
ports unchanged: DLPack capsules in and out (the memory is shared, never copied)."""
from __future__ import annotations

from .. import _core
from .._core import Tensor

__all__ = ["to_dlpack", "from_dlpack"]


def to_dlpack(tensor: Tensor):
    """A legacy DLPack capsule sharing ``tensor``'s memory (what ``tensor.__dlpack__()`` gives)."""
    return tensor.__dlpack__()


def from_dlpack(ext_tensor) -> Tensor:
    """A tensor sharing memory with a DLPack capsule or any object with ``__dlpack__``."""
    return _core.from_dlpack(ext_tensor)
