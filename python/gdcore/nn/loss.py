"""Loss layers: ``nn.MSELoss``."""
from __future__ import annotations

from .._core import Tensor
from . import functional as F
from .module import Module

__all__ = ["MSELoss"]

_REDUCTIONS = ("mean", "sum", "none")


class MSELoss(Module):
    """(input - target)^2 averaged ('mean', default), summed ('sum') or kept elementwise ('none').
    input and target must have the same shape; the result is a scalar unless reduction='none'."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"MSELoss: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"
