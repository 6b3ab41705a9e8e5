"""Elementwise activation layers: ``nn.ReLU``, ``nn.Sigmoid``, ``nn.Tanh``."""
from __future__ import annotations

from .._core import Tensor
from . import functional as F
from .module import Module

__all__ = ["ReLU", "Sigmoid", "Tanh"]


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
