"""``gdcore.testing.assert_close``: torch.testing.assert_close for gdcore tensors.

Tensors (and numpy arrays, Python numbers, and sequences or mappings of them, compared item by
item) must agree in shape and, unless ``check_dtype=False``, dtype; then elementwise
``|actual - expected| <= atol + rtol * |expected|``, with torch's default tolerances by dtype
(float32: rtol 1.3e-6, atol 1e-5; float64: 1e-7 and 1e-7; integers and bool: exact).
A mismatch raises AssertionError with torch's summary, or ``msg`` when given.
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Optional, Union

import numpy as np

from ._core import Tensor

__all__ = ["assert_close"]

_TOLERANCES = {"float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def _tolerances(dtype_name: str):
    return _TOLERANCES.get(dtype_name, (0.0, 0.0))


def _fail(default: str, msg, where: str) -> None:
    text = default + (f"\n\nThe failure occurred for item {where}" if where else "")
    if callable(msg):
        text = msg(text)
    elif msg is not None:
        text = msg
    raise AssertionError(text)


def _values(x):
    """(numpy array, dtype name, kind) of a tensor, an array or a number."""
    if isinstance(x, Tensor):
        return x.detach().numpy(), x.dtype.name, "Tensor-likes"
    if isinstance(x, np.ndarray):
        return x, x.dtype.name, "Tensor-likes"
    if isinstance(x, bool):
        return np.asarray(x), "bool", "Scalars"
    if isinstance(x, numbers.Integral):
        return np.asarray(int(x), dtype=np.int64), "int64", "Scalars"
    return np.asarray(float(x), dtype=np.float64), "float64", "Scalars"


def _compare(actual, expected, rtol, atol, equal_nan, check_dtype, msg, where: str) -> None:
    a, a_dtype, kind = _values(actual)
    e, e_dtype, _ = _values(expected)
    if isinstance(actual, Tensor) != isinstance(expected, Tensor) and not (
            isinstance(actual, numbers.Number) and isinstance(expected, numbers.Number)):
        _fail(f"No comparison pair was able to handle inputs of type {type(actual).__name__} and "
              f"{type(expected).__name__}.", msg, where)
    if a.shape != e.shape:
        from .size import Size
        _fail(f"The values for attribute 'shape' do not match: {Size(a.shape)!r} != {Size(e.shape)!r}.", msg, where)
    if check_dtype and a_dtype != e_dtype:
        _fail(f"The values for attribute 'dtype' do not match: gdcore.{a_dtype} != gdcore.{e_dtype}.", msg, where)
    if rtol is None:
        rtol_a, atol_a = _tolerances(a_dtype)
        rtol_e, atol_e = _tolerances(e_dtype)
        rtol, atol = max(rtol_a, rtol_e), max(atol_a, atol_e)
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    with np.errstate(invalid="ignore"):
        diff = np.abs(a64 - e64)
        close = diff <= atol + rtol * np.abs(e64)
        close |= a64 == e64  # infinities of the same sign
        if equal_nan:
            close |= np.isnan(a64) & np.isnan(e64)
    if close.all():
        return
    exact = rtol == 0 and atol == 0
    adjective = "equal" if exact else "close"
    if kind == "Scalars":
        text = (f"Scalars are not {adjective}!\n\nExpected {expected} but got {actual}.\n"
                f"Absolute difference: {float(diff)}" + ("" if exact else f" (up to {atol} allowed)") +
                f"\nRelative difference: {float(diff / np.abs(e64)) if e64 != 0 else float('inf')}" +
                ("" if exact else f" (up to {rtol} allowed)"))
        _fail(text, msg, where)
    bad = ~close
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = diff / np.abs(e64)
    flat_abs = np.where(bad, diff, -np.inf).reshape(-1)
    flat_rel = np.where(bad, rel, -np.inf).reshape(-1)
    # A NaN difference ranks above every number, so that it is the one reported (as torch does).
    i_abs = int(np.argmax(np.where(np.isnan(flat_abs), np.inf, flat_abs)))
    i_rel = int(np.argmax(np.where(np.isnan(flat_rel), np.inf, flat_rel)))
    at_abs = tuple(int(i) for i in np.unravel_index(i_abs, a.shape)) if a.shape else ()
    at_rel = tuple(int(i) for i in np.unravel_index(i_rel, a.shape)) if a.shape else ()
    count = int(bad.sum())
    text = (f"Tensor-likes are not {adjective}!\n\nMismatched elements: {count} / {a.size} "
            f"({100.0 * count / a.size:.1f}%)\n"
            f"Greatest absolute difference: {diff.reshape(-1)[i_abs]} at index {at_abs}" +
            ("" if exact else f" (up to {atol} allowed)") +
            f"\nGreatest relative difference: {rel.reshape(-1)[i_rel]} at index {at_rel}" +
            ("" if exact else f" (up to {rtol} allowed)"))
    _fail(text, msg, where)


def _walk(actual, expected, rtol, atol, equal_nan, check_dtype, msg, where: str) -> None:
    leaf = (Tensor, np.ndarray, numbers.Number)
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            _fail(f"The keys of the mappings do not match: {sorted(map(str, actual))} != "
                  f"{sorted(map(str, expected))}.", msg, where)
        for k in expected:
            _walk(actual[k], expected[k], rtol, atol, equal_nan, check_dtype, msg, f"{where}[{k!r}]")
        return
    if (isinstance(actual, Sequence) and isinstance(expected, Sequence) and not isinstance(actual, str)
            and not isinstance(expected, str)):
        if len(actual) != len(expected):
            _fail(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", msg, where)
        for i, (a, e) in enumerate(zip(actual, expected)):
            _walk(a, e, rtol, atol, equal_nan, check_dtype, msg, f"{where}[{i}]")
        return
    if not isinstance(actual, leaf) or not isinstance(expected, leaf):
        _fail(f"No comparison pair was able to handle inputs of type {type(actual).__name__} and "
              f"{type(expected).__name__}.", msg, where)
    _compare(actual, expected, rtol, atol, equal_nan, check_dtype, msg, where)


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True, rtol: Optional[float] = None,
                 atol: Optional[float] = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg: Union[str, Callable[[str], str], None] = None) -> None:
    """Raises AssertionError unless ``actual`` and ``expected`` are close (see the module docstring);
    ``rtol`` and ``atol`` are given together or not at all, as in torch."""
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'atol' if atol is None else 'rtol'}.")
    if rtol is not None and (rtol < 0 or atol < 0):
        raise ValueError(f"assert_close: rtol and atol must be non-negative, got rtol={rtol} atol={atol}")
    _walk(actual, expected, rtol, atol, equal_nan, check_dtype, msg, "")
