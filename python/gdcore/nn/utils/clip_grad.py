"""Gradient clipping: ``clip_grad_norm_`` scales all gradients together so that their joint
norm is at most ``max_norm``; ``clip_grad_value_`` clamps each gradient element. Both work on
the ``.grad`` tensors in place, with no graph, as torch's do. The norms are C++ ops
(linalg.vector_norm); this file only walks the parameter list.
"""
from __future__ import annotations

import math
from typing import Iterable, Union

from ... import _core
from ..._core import Tensor
from ...grad_mode import no_grad

__all__ = ["clip_grad_norm_", "clip_grad_value_"]

Params = Union[Tensor, Iterable[Tensor]]


def _grads(parameters: Params):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters: Params, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Scales every gradient by min(1, max_norm / (total_norm + 1e-6)), where total_norm is the
    ``norm_type`` norm of all gradients seen as one vector (inf: the largest |element|).
    Returns total_norm (a 0-d tensor, computed before clipping). With ``error_if_nonfinite``,
    a nan/inf total norm raises RuntimeError instead of scaling by it. ``foreach`` is accepted
    for torch compatibility (one loop either way)."""
    if isinstance(norm_type, str):
        if norm_type != "inf":
            raise ValueError(f"clip_grad_norm_: norm_type must be a number or 'inf', got {norm_type!r}")
        norm_type = math.inf
    max_norm, norm_type = float(max_norm), float(norm_type)
    grads = _grads(parameters)
    if not grads:
        return _core._full([], 0.0, _core.dtype.float32, False)
    with no_grad():
        dtype = grads[0].dtype
        norms = [_core._vector_norm(g, norm_type, None, False).to(dtype) for g in grads]
        # The norm of the per-tensor norms, joined with 0-d ops rather than a stack, so that a compiled
        # step stays lowered (norms are >= 0, so n ** p needs no abs; p = 1 and 2 use exact pow paths).
        if len(norms) == 1:
            total = norms[0]
        elif math.isinf(norm_type):
            total = norms[0]
            for n in norms[1:]:
                total = (_core.maximum if norm_type > 0 else _core.minimum)(total, n)
        elif norm_type == 0:
            total = _core._vector_norm(_core.stack(norms), 0.0, None, False)
        else:
            total = norms[0] ** norm_type
            for n in norms[1:]:
                total = total + n ** norm_type
            total = total ** (1.0 / norm_type)
        if error_if_nonfinite and not math.isfinite(total.item()):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                               "so it cannot be clipped. To disable this error and scale the gradients by the "
                               "non-finite norm anyway, set `error_if_nonfinite=False`")
        coef = _core.clamp(max_norm / (total + 1e-6), None, 1.0)
        for g in grads:
            g.mul_(coef.to(g.dtype))
    return total


def clip_grad_value_(parameters: Params, clip_value: float, foreach=None) -> None:
    """Clamps every gradient element to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    with no_grad():
        for g in _grads(parameters):
            g.copy_(_core.clamp(g, -clip_value, clip_value))
