"""``nn.Conv1d``, ``nn.MaxPool1d`` and ``nn.AvgPool1d``: the layer forms of nn/functional_1d.py,
with torch's defaults (Conv1d's weight (out_channels, in_channels, k) and bias initialised as torch's)."""
from __future__ import annotations

from .._core import Tensor
from . import functional as F
from . import functional_1d as F1
from . import init
from .linear import _check_size, _init_layer_parameters
from .module import Module

__all__ = ["Conv1d", "MaxPool1d", "AvgPool1d"]


class Conv1d(Module):
    """(N, in_channels, L) -> (N, out_channels, (L + 2*padding - k) // stride + 1). Only dilation=1, groups=1
    and padding_mode='zeros' are supported."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__()
        self.in_channels = _check_size(in_channels, "in_channels", "Conv1d", 1)
        self.out_channels = _check_size(out_channels, "out_channels", "Conv1d", 1)
        self.kernel_size = (F1._single(kernel_size, "kernel_size", "Conv1d"),)
        self.stride = (F1._single(stride, "stride", "Conv1d"),)
        self.padding = padding if isinstance(padding, str) else (F1._single(padding, "padding", "Conv1d"),)
        F._only_default(F1._single(dilation, "dilation", "Conv1d"), 1, "dilation", "Conv1d")
        F._only_default(groups, 1, "groups", "Conv1d")
        if padding_mode != "zeros":
            raise ValueError(f"Conv1d: gdcore supports only padding_mode='zeros', got {padding_mode!r}")
        if self.kernel_size[0] < 1 or self.stride[0] < 1:
            raise ValueError(f"Conv1d: kernel_size and stride must be >= 1, got {self.kernel_size} and {self.stride}")
        _init_layer_parameters(self, (out_channels, in_channels, self.kernel_size[0]), bias, dtype, device)

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return F1.conv1d(input, self.weight, self.bias, self.stride[0], padding)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,):
            text += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.bias is None:
            text += ", bias=False"
        return text


class MaxPool1d(Module):
    """(N, C, L) -> (N, C, (L + 2*padding - k) // stride + 1); stride defaults to kernel_size."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        super().__init__()
        F1._pool_args(kernel_size, stride, padding, "MaxPool1d")
        F._only_default(F1._single(dilation, "dilation", "MaxPool1d"), 1, "dilation", "MaxPool1d")
        if ceil_mode:
            raise ValueError("MaxPool1d: gdcore supports only ceil_mode=False")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.return_indices = return_indices

    def forward(self, input: Tensor):
        return F1.max_pool1d(input, self.kernel_size, self.stride, self.padding, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(Module):
    """(N, C, L) -> (N, C, (L + 2*padding - k) // stride + 1); stride defaults to kernel_size."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True):
        super().__init__()
        F1._pool_args(kernel_size, stride, padding, "AvgPool1d")
        if ceil_mode:
            raise ValueError("AvgPool1d: gdcore supports only ceil_mode=False")
        self.kernel_size = (F1._single(kernel_size, "kernel_size", "AvgPool1d"),)
        self.stride = self.kernel_size if stride is None else (F1._single(stride, "stride", "AvgPool1d"),)
        self.padding = (F1._single(padding, "padding", "AvgPool1d"),)
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F1.avg_pool1d(input, self.kernel_size, self.stride, self.padding,
                             count_include_pad=self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
