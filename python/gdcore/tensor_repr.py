"""``repr(tensor)`` in torch's format: values, then dtype (when not float32, int64 or bool,
the dtypes torch leaves out), then requires_grad or grad_fn.

Floats follow torch's printing rules: integer-valued floats print as ``1.``; others
with 4 decimals (``0.2500``); scientific notation (``1.0000e+05``) when the
magnitudes of the shown non-zero values span more than 1000x, exceed 1e8, or (for
non-integers) go below 1e-4. Long tensors show their first and last 3 entries.
``set_printoptions`` (torch's names and profiles) changes these numbers for every later repr.
"""
from __future__ import annotations

import sys

import numpy as np

from . import _core
from .default_dtype import get_default_dtype

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80, "sci_mode": None},
    "full": {"precision": 4, "threshold": float("inf"), "edgeitems": 3, "linewidth": 80, "sci_mode": None},
}
_options = dict(_PROFILES["default"])


def _count(value, name: str, minimum: int):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ValueError(f"set_printoptions: {name} must be a number >= {minimum}, got {value!r}")
    return value


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None) -> None:
    """How tensors print, as torch.set_printoptions: ``precision`` (decimals), ``threshold`` (more
    elements than this are summarised), ``edgeitems`` (entries kept at each end when summarised),
    ``linewidth``, ``sci_mode`` (True/False force scientific notation on or off; None decides by the
    values) and ``profile`` ('default', 'short', 'full'), which sets them all first."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}")
        _options.update(_PROFILES[profile])
    if precision is not None:
        _options["precision"] = int(_count(precision, "precision", 0))
    if threshold is not None:
        _options["threshold"] = _count(threshold, "threshold", 0)
    if edgeitems is not None:
        _options["edgeitems"] = int(_count(edgeitems, "edgeitems", 0))
    if linewidth is not None:
        _options["linewidth"] = int(_count(linewidth, "linewidth", 1))
    if sci_mode is not None and not isinstance(sci_mode, bool):
        raise TypeError(f"set_printoptions: sci_mode must be True, False or None, got {sci_mode!r}")
    _options["sci_mode"] = sci_mode  # None restores the automatic choice, as in torch


def _shown_values(values: np.ndarray) -> np.ndarray:
    """The entries that will be printed (the edges only, when the tensor is summarised)."""
    edge = _options["edgeitems"]
    if values.size <= _options["threshold"]:
        return values.reshape(-1)
    parts = [values]
    for axis in range(values.ndim):
        if values.shape[axis] > 2 * edge:
            idx = np.r_[0:edge, values.shape[axis] - edge:values.shape[axis]]
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
    precision = _options["precision"]
    sci = nonzero.size > 0 and (big / small > 1000.0 or big > 1.0e8 or (not int_mode and small < 1.0e-4))
    if _options["sci_mode"] is not None:
        sci = _options["sci_mode"]
    if sci:
        def fmt(v):
            return f"{v:.{precision}e}"
    elif int_mode:
        def fmt(v):
            return f"{v:.0f}." if np.isfinite(v) else f"{v}"
    else:
        def fmt(v):
            return f"{v:.{precision}f}"
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
        threshold = _options["threshold"]
        body = np.array2string(values, separator=", ", prefix=prefix,
                               threshold=sys.maxsize if threshold == float("inf") else int(threshold),
                               edgeitems=_options["edgeitems"], formatter=formatter,
                               max_line_width=_options["linewidth"])
    extras = []
    if values.size == 0 and t.dim() != 1:
        extras.append(f"size={tuple(t.shape)}")
    # The default float dtype, int64 and bool go unsaid (the dtypes torch infers from the printed values); an
    # empty tensor has no values to tell them apart, so then only the default float dtype does (as torch does).
    implied = (_core.dtype.int64, _core.dtype.bool)
    if t.dtype != get_default_dtype() and (t.dtype not in implied or values.size == 0):
        extras.append(f"dtype=gdcore.{t.dtype.name}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"
