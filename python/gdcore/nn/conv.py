"""``nn.Conv2d``: a 2-d convolution layer over (N, C, H, W) input, torch's defaults."""
from __future__ import annotations


from .._core import Tensor
from . import functional as F
from . import init
from .linear import _check_size, _init_layer_parameters
from .module import Module

__all__ = ["Conv2d"]


class Conv2d(Module):
    """(N, in_channels, H, W) -> (N, out_channels, OH, OW), OH = (H + 2*padding - kH) // stride + 1.

    weight (out_channels, in_channels, kH, kW) and bias (out_channels,) start as in torch:
    kaiming_uniform_(a=sqrt(5)) and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels*kH*kW.
    Only dilation=1, groups=1 and padding_mode='zeros' are supported.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__()
        self.in_channels = _check_size(in_channels, "in_channels", "Conv2d", 1)
        self.out_channels = _check_size(out_channels, "out_channels", "Conv2d", 1)
        self.kernel_size = F._pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = F._pair(stride, "stride", "Conv2d")
        self.padding = padding if isinstance(padding, str) else F._pair(padding, "padding", "Conv2d")
        F._only_default(dilation, 1, "dilation", "Conv2d")
        F._only_default(groups, 1, "groups", "Conv2d")
        if padding_mode != "zeros":
            raise ValueError(f"Conv2d: gdcore supports only padding_mode='zeros', got {padding_mode!r}")
        if min(self.kernel_size) < 1 or min(self.stride) < 1:
            raise ValueError(f"Conv2d: kernel_size and stride must be >= 1, got {self.kernel_size} and {self.stride}")
        # Resolve 'same'/'valid' now so that a bad combination fails at construction.
        F._conv_padding(self.padding, self.kernel_size, self.stride)
        _init_layer_parameters(self, (out_channels, in_channels, *self.kernel_size), bias, dtype, device)

    def reset_parameters(self) -> None:
        """Re-draws weight and bias with torch's defaults (from the global generator)."""
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.bias is None:
            text += ", bias=False"
        return text
