"""The default floating dtype (``set_default_dtype`` / ``get_default_dtype``, as torch's).

It is the dtype of tensors made from Python floats and of the float creation functions
(zeros, rand, arange with a float, linspace, ...) and of new layer parameters, when no
``dtype=`` is given. Only float32 (the start-up default) and float64 are allowed, as gdcore
has no other floating dtypes. Like torch's, the setting is process-wide, not per thread.
"""
from __future__ import annotations

from . import _core

__all__ = ["set_default_dtype", "get_default_dtype"]

_default = _core.dtype.float32


def get_default_dtype():
    """The dtype of new float tensors when none is asked for (gdcore.float32 unless changed)."""
    return _default


def set_default_dtype(d) -> None:
    """Makes ``d`` (gdcore.float32 or gdcore.float64) the dtype of new float tensors."""
    global _default
    if not isinstance(d, _core.dtype):
        raise TypeError(f"set_default_dtype: expected a gdcore.dtype (gdcore.float32 or gdcore.float64), got {d!r}")
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the default type, got "
                        f"gdcore.{d.name}; use gdcore.float32 or gdcore.float64")
    _default = d
