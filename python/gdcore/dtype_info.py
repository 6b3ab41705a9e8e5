"""``finfo`` and ``iinfo``: the numeric limits of gdcore's dtypes, as torch.finfo / torch.iinfo.

The numbers come from numpy's tables for the same machine types; ``dtype`` is the name as a
string (torch's finfo(...).dtype is the string 'float32' too).
"""
from __future__ import annotations

import numpy as np

from . import _core

__all__ = ["finfo", "iinfo"]

_FLOATS = {"float32": np.float32, "float64": np.float64}
_INTS = {"int64": np.int64, "int32": np.int32, "int16": np.int16, "int8": np.int8, "uint8": np.uint8}


def _name(type, who: str) -> str:
    if not isinstance(type, _core.dtype):
        raise TypeError(f"{who}: expected a gdcore.dtype such as gdcore.float32, got {type!r}")
    return type.name


class finfo:
    """Limits of a floating dtype: ``bits``, ``eps``, ``max``, ``min``, ``tiny`` (= ``smallest_normal``),
    ``resolution``; ``finfo()`` describes the default dtype."""

    def __init__(self, type=None):
        if type is None:
            from .default_dtype import get_default_dtype
            type = get_default_dtype()
        name = _name(type, "finfo")
        if name not in _FLOATS:
            raise TypeError(f"gdcore.finfo() requires a floating point input type, got gdcore.{name}; use "
                            "gdcore.iinfo for integer types")
        info = np.finfo(_FLOATS[name])
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)  # exactly 1e-06, as torch (numpy stores it in the dtype)
        self.dtype = name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype: ``bits``, ``max``, ``min``."""

    def __init__(self, type):
        name = _name(type, "iinfo")
        if name == "bool":
            raise TypeError("gdcore.bool is not supported by gdcore.iinfo")
        if name not in _INTS:
            raise TypeError(f"gdcore.iinfo() requires an integer input type, got gdcore.{name}; use "
                            "gdcore.finfo for floating types")
        info = np.iinfo(_INTS[name])
        self.bits = int(info.bits)
        self.max = int(info.max)
        self.min = int(info.min)
        self.dtype = name

    def __repr__(self) -> str:
        return f"iinfo(min={float(self.min):g}, max={float(self.max):g}, dtype={self.dtype})"
