"""``gdcore.Size``: the type of ``Tensor.shape`` and ``Tensor.size()``, a tuple of ints as
``torch.Size`` is (it compares equal to plain tuples and unpacks like one)."""
from __future__ import annotations

import math

from . import _core


class Size(tuple):
    """A tensor's sizes, e.g. ``gdcore.Size([2, 3])``; a tuple subclass, as torch.Size."""

    __slots__ = ()

    def __new__(cls, sizes=()):
        values = tuple(sizes)
        for v in values:
            if not hasattr(v, "__index__") or isinstance(v, bool):
                raise TypeError(f"gdcore.Size() takes an iterable of 'int' (item {v!r} is a {type(v).__name__})")
        return super().__new__(cls, (v.__index__() for v in values))

    def __repr__(self) -> str:
        return f"gdcore.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, key):
        item = super().__getitem__(key)
        return Size(item) if isinstance(key, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(other) + tuple(self))

    def numel(self) -> int:
        """The number of elements a tensor of these sizes holds (the product; 1 for ``Size([])``)."""
        return math.prod(self)

    def __reduce__(self):
        return (Size, (tuple(self),))


_core._set_size_type(Size)
