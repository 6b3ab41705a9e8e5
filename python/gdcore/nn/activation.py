"""Activation layers: ``nn.ReLU``, ``nn.Sigmoid``, ``nn.Tanh``, ``nn.LeakyReLU``, ``nn.GELU``, ``nn.ELU``,
``nn.SiLU``, ``nn.Softplus`` (elementwise) and ``nn.Softmax``, ``nn.LogSoftmax`` (along a dim)."""
from __future__ import annotations

from .._core import Tensor
from . import functional as F
from . import functional_layers as FL
from .module import Module

__all__ = ["ReLU", "Sigmoid", "Tanh", "LeakyReLU", "GELU", "ELU", "SiLU", "Softplus", "Softmax", "LogSoftmax"]


class ReLU(Module):
    """max(x, 0) elementwise, any shape. ``inplace`` is accepted for torch compatibility; the
    output is always a new tensor with the same values."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise, any shape."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x) elementwise, any shape."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class LeakyReLU(Module):
    """x for x >= 0, negative_slope * x below; any shape."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return FL.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    """x * Phi(x) (``approximate='none'``) or torch's tanh approximation (``'tanh'``); any shape."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return FL.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise; any shape."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return FL.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SiLU(Module):
    """x * sigmoid(x); any shape."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return FL.silu(input)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, reverting to x where beta * x > threshold; any shape."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        if beta == 0:
            raise ValueError("Softplus: beta must be nonzero")
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return FL.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim`` (the class dim, usually 1 or -1)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


# The activations of nn/functional_activations.py (issue 11's breadth round).
from . import functional_activations as FA  # noqa: E402

__all__ += ["Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Softsign", "Tanhshrink", "LogSigmoid", "Mish", "SELU",
            "CELU"]


class _Inplace(Module):
    """An activation with only torch's ``inplace`` flag (accepted; the output is always a new tensor)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardtanh(Module):
    """x clamped to [min_val, max_val]; any shape."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val cannot be greater than max_val, got {min_val} > {max_val}")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:
        return FA.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(_Inplace):
    """min(max(x, 0), 6); any shape."""

    def forward(self, input: Tensor) -> Tensor:
        return FA.relu6(input)


class Hardsigmoid(_Inplace):
    """x / 6 + 1/2 clamped to [0, 1]; any shape."""

    def forward(self, input: Tensor) -> Tensor:
        return FA.hardsigmoid(input)


class Hardswish(_Inplace):
    """x * hardsigmoid(x); any shape."""

    def forward(self, input: Tensor) -> Tensor:
        return FA.hardswish(input)


class Mish(_Inplace):
    """x * tanh(softplus(x)); any shape."""

    def forward(self, input: Tensor) -> Tensor:
        return FA.mish(input)


class SELU(_Inplace):
    """Scaled ELU with torch's fixed alpha and scale; any shape."""

    def forward(self, input: Tensor) -> Tensor:
        return FA.selu(input)


class Softsign(Module):
    """x / (1 + |x|); any shape."""

    def forward(self, input: Tensor) -> Tensor:
        return FA.softsign(input)


class Tanhshrink(Module):
    """x - tanh(x); any shape."""

    def forward(self, input: Tensor) -> Tensor:
        return FA.tanhshrink(input)


class LogSigmoid(Module):
    """log(sigmoid(x)), computed without overflow; any shape."""

    def forward(self, input: Tensor) -> Tensor:
        return FA.logsigmoid(input)


class CELU(Module):
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise; any shape."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        if alpha == 0:
            raise ValueError("CELU: alpha must be nonzero (the formula divides by alpha)")
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        return FA.celu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")
