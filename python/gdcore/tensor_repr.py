"""``repr(tensor)`` in torch's format: values, then dtype (when not the default),
requires_grad or grad_fn."""
from __future__ import annotations

import numpy as np

from . import _core


def tensor_repr(t) -> str:
    values = t.detach().numpy()
    prefix = "tensor("
    if values.size == 0:
        body = "[]"
    else:
        body = np.array2string(values, separator=", ", prefix=prefix, threshold=1000, edgeitems=3,
                               precision=4, floatmode="maxprec_equal" if values.dtype.kind == "f" else "maxprec")
    extras = []
    if values.size == 0 and t.dim() != 1:
        extras.append(f"size={tuple(t.shape)}")
    if t.dtype != _core.dtype.float32:
        extras.append(f"dtype=gdcore.{t.dtype.name}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"
