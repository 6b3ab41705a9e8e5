"""Comparing whole tensors as torch does: ``isclose`` (elementwise, |a - b| <= atol + rtol * |b|, with
infinities equal to themselves and NaN equal to NaN only with ``equal_nan``), ``allclose`` (a Python
bool: every element close) and ``equal`` (a Python bool: same shape and the same values).

Composed of the core's comparison ops, so broadcasting and the error for mismatched shapes are
theirs. As in torch, isclose wants both tensors of one dtype; equal compares across dtypes.
"""
from __future__ import annotations

from . import _core
from ._core import Tensor

__all__ = ["isclose", "allclose", "equal"]

_TORCH_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "int16": "Short",
                "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _check(input, other, op: str) -> None:
    for name, value in (("input", input), ("other", other)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be a gdcore.Tensor, got {type(value).__name__}")


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """A bool tensor (the broadcast shape): where |input - other| <= atol + rtol * |other|, or the two
    are equal (so inf is close to inf), or both are NaN and ``equal_nan``."""
    _check(input, other, "isclose")
    if input.dtype != other.dtype:
        a, b = (_TORCH_NAMES.get(t.dtype.name, t.dtype.name) for t in (input, other))
        raise RuntimeError(f"isclose: {a} did not match {b}; convert one with .to(other.dtype)")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    close = input == other
    if input.dtype == _core.dtype.bool:
        return close
    if not input.is_floating_point():  # integers: the tolerance test in float64, as torch's does
        input, other = input.double(), other.double()
    elif equal_nan:
        close = close | (input.isnan() & other.isnan())
    diff = (input - other).abs()
    return close | (diff.isfinite() & (diff <= atol + rtol * other.abs()))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Whether every element of ``input`` is close to ``other`` (see isclose): a Python bool."""
    _check(input, other, "allclose")
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input: Tensor, other: Tensor) -> bool:
    """True when the two tensors have the same shape and the same values (NaN is never equal)."""
    _check(input, other, "equal")
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool((input == other).all())


def install_methods() -> None:
    from .shape_ops import as_method
    for fn in (isclose, allclose, equal):
        if not hasattr(Tensor, fn.__name__):
            setattr(Tensor, fn.__name__, as_method(fn, fn.__name__))
