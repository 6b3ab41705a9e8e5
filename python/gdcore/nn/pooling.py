"""``nn.MaxPool2d``: max over sliding windows of (N, C, H, W) input."""
from __future__ import annotations

from .._core import Tensor
from . import functional as F
from .module import Module

__all__ = ["MaxPool2d"]


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
