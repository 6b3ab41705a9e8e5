"""1-d convolution and pooling over (N, C, L) or (C, L) input: conv1d, max_pool1d, avg_pool1d.

Each runs the 2-d op (C++ forward and backward) on the input with a height-1 axis added, which is
exactly the 1-d op: a (1, k) window never mixes rows, so values and gradients are the 2-d ones.
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

from .._core import Tensor
from . import functional as F
from . import functional_layers as FL

__all__ = ["conv1d", "max_pool1d", "avg_pool1d"]

IntOrSingle = Union[int, Tuple[int]]


def _single(value, name: str, op: str) -> int:
    """An int or a 1-tuple of ints, as torch's _single."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{op}: {name} must be an int or a 1-tuple of ints, got {value!r}")
    return int(value)


def _check_input(input: Tensor, op: str) -> None:
    F._require_tensor(input, "input", op)
    if input.dim() not in (2, 3):
        raise ValueError(f"{op}: expected input of shape (N, C, L) or (C, L), got shape {tuple(input.shape)}")


def conv1d(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: IntOrSingle = 1,
           padding: Union[IntOrSingle, str] = 0, dilation: IntOrSingle = 1, groups: int = 1) -> Tensor:
    """1-d cross-correlation with zero padding: input (N, C, L) or (C, L), weight (O, C, k), bias (O,)
    -> (N, O, (L + 2*padding - k) // stride + 1). padding may be 'valid' or 'same' (stride 1, odd k)."""
    _check_input(input, "conv1d")
    F._require_tensor(weight, "weight", "conv1d")
    if weight.dim() != 3:
        raise ValueError(f"conv1d: expected weight of shape (out_channels, in_channels, k), got shape "
                         f"{tuple(weight.shape)}")
    F._only_default(_single(dilation, "dilation", "conv1d"), 1, "dilation", "conv1d")
    F._only_default(groups, 1, "groups", "conv1d")
    step = _single(stride, "stride", "conv1d")
    k = weight.shape[2]
    if padding == "valid":
        pad = 0
    elif padding == "same":
        if step != 1:
            raise ValueError(f"conv1d: padding='same' needs stride 1, got stride {step}")
        if k % 2 == 0:
            raise ValueError(f"conv1d: padding='same' needs an odd kernel size in gdcore, got {k}; pass an explicit "
                             "padding instead")
        pad = k // 2
    elif isinstance(padding, str):
        raise ValueError(f"conv1d: padding must be an int, 'valid' or 'same', got {padding!r}")
    else:
        pad = _single(padding, "padding", "conv1d")
    out = F.conv2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1, step), (0, pad))
    return out.squeeze(-2)


def _pool_args(kernel_size, stride, padding, op: str) -> Tuple[int, int, int]:
    k = _single(kernel_size, "kernel_size", op)
    s = k if stride is None or stride == [] or stride == () else _single(stride, "stride", op)
    return k, s, _single(padding, "padding", op)


def max_pool1d(input: Tensor, kernel_size: IntOrSingle, stride: Optional[IntOrSingle] = None,
               padding: IntOrSingle = 0, dilation: IntOrSingle = 1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over windows of kernel_size moved by stride (default kernel_size): (N, C, L) -> (N, C, OL),
    OL = (L + 2*padding - k) // stride + 1; with return_indices also the int64 positions of the maxima."""
    _check_input(input, "max_pool1d")
    k, s, p = _pool_args(kernel_size, stride, padding, "max_pool1d")
    F._only_default(_single(dilation, "dilation", "max_pool1d"), 1, "dilation", "max_pool1d")
    result = F.max_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, p), ceil_mode=ceil_mode,
                          return_indices=return_indices)
    if return_indices:  # the flat index h * L + w of a height-1 plane is w, torch's 1-d index
        return result[0].squeeze(-2), result[1].squeeze(-2)
    return result.squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size: IntOrSingle, stride: Optional[IntOrSingle] = None,
               padding: IntOrSingle = 0, ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Mean over windows of kernel_size moved by stride (default kernel_size): (N, C, L) -> (N, C, OL);
    padding counts as zeros, and in the divisor when count_include_pad (torch's default)."""
    _check_input(input, "avg_pool1d")
    k, s, p = _pool_args(kernel_size, stride, padding, "avg_pool1d")
    out = FL.avg_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, p), ceil_mode=ceil_mode,
                        count_include_pad=count_include_pad)
    return out.squeeze(-2)
