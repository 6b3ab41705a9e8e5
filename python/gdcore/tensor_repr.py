"""``repr(tensor)`` in torch's format: values, then dtype (when not float32, int64 or bool,
the dtypes torch leaves out), then requires_grad or grad_fn.

Floats follow torch's printing rules: integer-valued floats print as ``1.``; others
with 4 decimals (``0.2500``); scientific notation (``1.0000e+05``) when the
magnitudes of the shown non-zero values span more than 1000x, exceed 1e8, or (for
non-integers) go below 1e-4. Long tensors show their first and last 3 entries.
"""
from __future__ import annotations

import numpy as np

from . import _core

_PRECISION = 4
_THRESHOLD = 1000
_EDGEITEMS = 3


def _shown_values(values: np.ndarray) -> np.ndarray:
    """The entries that will be printed (the edges only, when the tensor is summarised)."""
    if values.size <= _THRESHOLD:
        return values.reshape(-1)
    parts = [values]
    for axis in range(values.ndim):
        if values.shape[axis] > 2 * _EDGEITEMS:
            idx = np.r_[0:_EDGEITEMS, values.shape[axis] - _EDGEITEMS:values.shape[axis]]
            parts = [np.take(p, idx, axis=axis) for p in parts]
    return parts[0].reshape(-1)


def _float_formatter(values: np.ndarray):
    shown = _shown_values(values).astype(np.float64)
    finite = shown[np.isfinite(shown)]
    nonzero = np.abs(finite[finite != 0])
    int_mode = bool(np.all(finite == np.round(finite)))
    big = small = 1.0
    if nonzero.size:
        big, small = float(nonzero.max()), float(nonzero.min())
    sci = nonzero.size > 0 and (big / small > 1000.0 or big > 1.0e8 or (not int_mode and small < 1.0e-4))
    if sci:
        def fmt(v):
            return f"{v:.{_PRECISION}e}"
    elif int_mode:
        def fmt(v):
            return f"{v:.0f}." if np.isfinite(v) else f"{v}"
    else:
        def fmt(v):
            return f"{v:.{_PRECISION}f}"
    width = max((len(fmt(v)) for v in shown), default=0)
    return lambda v: fmt(v).rjust(width)


def tensor_repr(t) -> str:
    """torch-style text for a tensor, e.g. ``tensor([1., 2.], requires_grad=True)``."""
    values = t.detach().numpy()
    prefix = "tensor("
    if values.size == 0:
        body = "[]"
    else:
        formatter = {"float_kind": _float_formatter(values)} if values.dtype.kind == "f" else None
        body = np.array2string(values, separator=", ", prefix=prefix, threshold=_THRESHOLD, edgeitems=_EDGEITEMS,
                               formatter=formatter, max_line_width=80)
    extras = []
    if values.size == 0 and t.dim() != 1:
        extras.append(f"size={tuple(t.shape)}")
    # float32, int64 and bool go unsaid (the dtypes torch infers from the printed values); an empty
    # tensor has no values to tell them apart, so then only float32 does (as torch does).
    implied = (_core.dtype.int64, _core.dtype.bool)
    if t.dtype != _core.dtype.float32 and (t.dtype not in implied or values.size == 0):
        extras.append(f"dtype=gdcore.{t.dtype.name}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"
