"""``Variable``: torch's deprecated wrapper, kept because old tutorials still write
``Variable(x, requires_grad=True)``. As in torch since 0.4 it is no type of its own: calling it
returns a plain tensor (sharing ``data``'s memory, without its history), and every tensor is an
instance of it."""
from __future__ import annotations

import warnings

from .._core import Tensor

__all__ = ["Variable"]


class _VariableMeta(type):
    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False)`` -> a leaf tensor sharing ``data``'s memory."""

    def __new__(cls, data, requires_grad: bool = False, volatile: bool = False):
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}; use "
                            "gdcore.tensor(data, requires_grad=...) instead")
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with gdcore.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out
