"""Loss layers: ``nn.MSELoss`` and the classification and robust-regression losses."""
from __future__ import annotations

from typing import Optional

from .._core import Tensor
from . import functional as F
from . import functional_losses as FL
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


# ---- classification and robust-regression losses (issue 12): each module holds its options
# and calls the function of the same name in nn/functional_losses.py.

def _check_reduction(cls: str, reduction: str, allowed=_REDUCTIONS) -> str:
    if reduction not in allowed:
        raise ValueError(f"{cls}: reduction must be one of {allowed}, got {reduction!r}")
    return reduction


class _WeightedLoss(Module):
    """A loss with an optional per-class ``weight``, kept as a buffer-like attribute."""

    def __init__(self, weight: Optional[Tensor] = None, reduction: str = "mean"):
        super().__init__()
        self.weight = weight
        self.reduction = _check_reduction(type(self).__name__, reduction)


class CrossEntropyLoss(_WeightedLoss):
    """F.cross_entropy as a module: logits (N, C) / (N, C, d1, ...) / (C,) against int64 class
    indices or class probabilities; ``weight``, ``ignore_index``, ``label_smoothing``, ``reduction``."""

    def __init__(self, weight: Optional[Tensor] = None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, FL._reduction("CrossEntropyLoss", reduction, size_average, reduce))
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return FL.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                                reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """F.nll_loss as a module: log-probabilities against int64 class indices."""

    def __init__(self, weight: Optional[Tensor] = None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, FL._reduction("NLLLoss", reduction, size_average, reduce))
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return FL.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """F.binary_cross_entropy as a module: probabilities in [0, 1] against targets of the same shape."""

    def __init__(self, weight: Optional[Tensor] = None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(weight, FL._reduction("BCELoss", reduction, size_average, reduce))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return FL.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """F.binary_cross_entropy_with_logits as a module (``weight``, ``pos_weight``)."""

    def __init__(self, weight: Optional[Tensor] = None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight: Optional[Tensor] = None):
        super().__init__(weight, FL._reduction("BCEWithLogitsLoss", reduction, size_average, reduce))
        self.pos_weight = pos_weight

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return FL.binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                   pos_weight=self.pos_weight)


class L1Loss(Module):
    """|input - target| averaged, summed or elementwise."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        self.reduction = FL._reduction("L1Loss", reduction, size_average, reduce)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return FL.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(Module):
    """F.smooth_l1_loss as a module (``beta``)."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
        super().__init__()
        self.reduction = FL._reduction("SmoothL1Loss", reduction, size_average, reduce)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return FL.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(Module):
    """F.huber_loss as a module (``delta``)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__()
        self.reduction = _check_reduction("HuberLoss", reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return FL.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(Module):
    """F.kl_div as a module (``reduction`` incl. 'batchmean', ``log_target``)."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False):
        super().__init__()
        self.reduction = FL._reduction("KLDivLoss", reduction, size_average, reduce,
                                       allowed=_REDUCTIONS + ("batchmean",))
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return FL.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


__all__ += ["CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
            "KLDivLoss"]
