"""Pooling layers over (N, C, H, W) input: ``nn.MaxPool2d`` and ``nn.AvgPool2d`` (sliding windows),
``nn.AdaptiveAvgPool2d`` (windows chosen to give a fixed output size)."""
from __future__ import annotations

from .._core import Tensor
from . import functional as F
from . import functional_layers as FL
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


class MaxPool2d(Module):
    """(N, C, H, W) -> (N, C, OH, OW), OH = (H + 2*padding - kH) // stride + 1; stride defaults to
    kernel_size. Only dilation=1 and ceil_mode=False are supported."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        super().__init__()
        F._pair(kernel_size, "kernel_size", "MaxPool2d")  # validate now, keep the user's spelling for repr
        if stride is not None:
            F._pair(stride, "stride", "MaxPool2d")
        F._pair(padding, "padding", "MaxPool2d")
        F._only_default(dilation, 1, "dilation", "MaxPool2d")
        if ceil_mode:
            raise ValueError("MaxPool2d: gdcore supports only ceil_mode=False")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.return_indices = return_indices

    def forward(self, input: Tensor):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """(N, C, H, W) -> (N, C, OH, OW), OH = (H + 2*padding - kH) // stride + 1; stride defaults to
    kernel_size; padding counts as zeros (and in the divisor with count_include_pad, the default).
    Only ceil_mode=False and divisor_override=None are supported."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override=None):
        super().__init__()
        F._pair(kernel_size, "kernel_size", "AvgPool2d")
        if stride is not None:
            F._pair(stride, "stride", "AvgPool2d")
        F._pair(padding, "padding", "AvgPool2d")
        if ceil_mode:
            raise ValueError("AvgPool2d: gdcore supports only ceil_mode=False")
        if divisor_override is not None:
            raise ValueError("AvgPool2d: gdcore does not support divisor_override; leave it None")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return FL.avg_pool2d(input, self.kernel_size, self.stride, self.padding,
                             count_include_pad=self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """(N, C, H, W) -> (N, C, *output_size): output row i averages input rows
    floor(i*H/OH) .. ceil((i+1)*H/OH) - 1, likewise columns (torch's windows)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return FL.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
