"""Vector utilities of torch.nn.functional: one_hot, pad, normalize, cosine_similarity and
pairwise_distance.

All are compositions of differentiable ops (cat, index_select, norm, clamp_min, sum), so
gradients come from those. ``pad`` builds the constant border with ``cat`` and reads the
reflect / replicate / circular borders with ``index_select`` of an index computed once in numpy.
"""
from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np

from .. import _core
from .._core import Tensor
from ..creation import arange, full, int64, tensor
from .functional import _require_tensor

__all__ = ["one_hot", "pad", "normalize", "cosine_similarity", "pairwise_distance"]


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape ``tensor.shape + (num_classes,)`` with a 1 at each class index.

    ``tensor`` holds int64 class indices in [0, num_classes); ``num_classes=-1`` takes max + 1."""
    _require_tensor(tensor, "tensor", "one_hot")
    if tensor.dtype != int64:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type int64 (LongTensor), got "
                           f"{tensor.dtype}; convert with .long()")
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"one_hot: num_classes must be an int, got {num_classes!r}")
    num_classes = int(num_classes)
    if tensor.numel() == 0:
        if num_classes == -1:
            raise RuntimeError("one_hot: can not infer the total number of classes from an empty tensor; "
                               "pass num_classes")
    else:
        low, high = int(tensor.min().item()), int(tensor.max().item())
        if low < 0:
            raise RuntimeError(f"one_hot: class values must be non-negative, got {low}")
        if num_classes == -1:
            num_classes = high + 1
        elif high >= num_classes:
            raise RuntimeError(f"one_hot: class values must be smaller than num_classes={num_classes}, got {high}")
    if num_classes < 0:
        raise RuntimeError(f"one_hot: num_classes must be -1 (infer) or non-negative, got {num_classes}")
    return (tensor.unsqueeze(-1) == arange(num_classes)).long()


def _pad_pairs(input: Tensor, pad: Sequence[int]) -> list:
    """[(dim, before, after), ...] from torch's pad list (last dim first)."""
    if not isinstance(pad, (tuple, list)) or not all(isinstance(p, numbers.Integral) and not isinstance(p, bool)
                                                     for p in pad):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r}")
    if len(pad) % 2:
        raise RuntimeError(f"pad: padding length must be divisible by 2, got {len(pad)} ({tuple(pad)})")
    if len(pad) // 2 > input.dim():
        raise RuntimeError(f"pad: padding length should be less than or equal to two times the input dimension but "
                           f"got padding length {len(pad)} and input of dimension {input.dim()}")
    return [(input.dim() - 1 - i, int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)]


def _source_index(n: int, before: int, after: int, mode: str, dim: int, shape) -> np.ndarray:
    """For each output position along a padded dim, the input position it copies."""
    if mode == "reflect" and (before >= n or after >= n):
        raise RuntimeError(f"pad: padding size should be less than the corresponding input dimension in reflect "
                           f"mode, but got padding ({before}, {after}) at dimension {dim} of input {list(shape)}")
    if mode == "circular" and (before > n or after > n):
        raise RuntimeError(f"pad: padding value ({before}, {after}) must be at most the size {n} of dimension {dim} "
                           f"in circular mode")
    if n == 0:
        raise RuntimeError(f"pad: {mode} padding needs a non-empty dimension {dim}, got input of shape {list(shape)}")
    j = np.arange(-before, n + after)
    if mode == "reflect":
        j = np.abs(j)
        j = np.where(j >= n, 2 * (n - 1) - j, j)
    elif mode == "replicate":
        j = np.clip(j, 0, n - 1)
    else:  # circular
        j = np.mod(j, n)
    return j


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value=None) -> Tensor:
    """Pads the last ``len(pad) // 2`` dims: ``pad = (left, right)`` for the last dim, then (top, bottom)
    for the one before, and so on; negative amounts crop.

    mode 'constant' (fill with ``value``, default 0) works for any number of dims; 'reflect',
    'replicate' and 'circular' pad the last 1, 2 or 3 dims of a batched input (as torch: e.g. 2
    numbers for (C, W) or (N, C, W) input)."""
    _require_tensor(input, "input", "pad")
    pairs = _pad_pairs(input, pad)
    if mode == "constant":
        fill = 0 if value is None else value
        out = input
        for dim, before, after in pairs:
            if before < 0 or after < 0:  # crop first
                stop = out.shape[dim] + min(after, 0)
                start = -min(before, 0)
                if stop < start:
                    raise RuntimeError(f"pad: negative padding ({before}, {after}) removes more than the size "
                                       f"{out.shape[dim]} of dimension {dim}")
                out = _core.index_select(out, dim, arange(start, stop))
            parts = []
            for amount in (before, after):
                shape = list(out.shape)
                shape[dim] = max(amount, 0)
                parts.append(full(shape, fill, dtype=out.dtype))
            if before > 0 or after > 0:
                out = _core.cat([parts[0], out, parts[1]], dim)
        return out
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r}; use 'constant', 'reflect', "
                                  "'replicate' or 'circular'")
    if value not in (None, 0):
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument, got value={value!r}")
    k = len(pairs)
    if k not in (1, 2, 3) or input.dim() not in (k + 1, k + 2):
        raise NotImplementedError(f"pad: padding size {len(pad)} is not supported for {input.dim()}-d input in "
                                  f"{mode} mode; it pads the last 1, 2 or 3 dims of a (C, *) or (N, C, *) input: "
                                  "2 numbers for 2-d/3-d input, 4 for 3-d/4-d, 6 for 4-d/5-d")
    out = input
    for dim, before, after in pairs:
        idx = _source_index(out.shape[dim], before, after, mode, dim, input.shape)
        out = _core.index_select(out, dim, tensor(idx, dtype=int64))
    return out


def _check_dim(dim, ndim: int, op: str) -> int:
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-max(ndim, 1)}, "
                         f"{max(ndim, 1) - 1}], but got {dim})")
    return int(dim)


def _require_float(t: Tensor, name: str, op: str) -> None:
    _require_tensor(t, name, op)
    if not t.is_floating_point():
        raise TypeError(f"{op}: {name} is {t.dtype}; expected a floating-point tensor (convert with .float())")


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """input / max(||input||_p over ``dim``, eps): unit p-norm vectors along ``dim``, same shape."""
    _require_float(input, "input", "normalize")
    if out is not None:
        raise TypeError("normalize: out= is not supported; use the returned tensor")
    dim = _check_dim(dim, input.dim(), "normalize")
    from ..mathops import norm
    return input / _core.clamp_min(norm(input, p, dim, True), float(eps))


def _broadcast(x1: Tensor, x2: Tensor, op: str):
    try:
        shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        raise RuntimeError(f"{op}: the shapes of x1 {tuple(x1.shape)} and x2 {tuple(x2.shape)} do not broadcast") \
            from None
    return x1.expand(*shape), x2.expand(*shape)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between x1 and x2 along ``dim`` (after broadcasting them), each norm
    clamped below at ``eps``; the result drops ``dim``."""
    _require_float(x1, "x1", "cosine_similarity")
    _require_float(x2, "x2", "cosine_similarity")
    x1, x2 = _broadcast(x1, x2, "cosine_similarity")
    dim = _check_dim(dim, x1.dim(), "cosine_similarity")
    from ..mathops import norm
    n1 = _core.clamp_min(norm(x1, 2, dim, True), float(eps))
    n2 = _core.clamp_min(norm(x2, 2, dim, True), float(eps))
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim (after broadcasting); ``eps`` keeps the gradient finite
    where x1 == x2, as torch's."""
    _require_float(x1, "x1", "pairwise_distance")
    _require_float(x2, "x2", "pairwise_distance")
    x1, x2 = _broadcast(x1, x2, "pairwise_distance")
    from ..mathops import norm
    if x1.dim() == 0:
        return _core.abs(x1 - x2 + eps)
    return norm(x1 - x2 + eps, p, -1, keepdim)
