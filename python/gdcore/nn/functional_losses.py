"""The classification and robust-regression losses of ``torch.nn.functional``:
cross_entropy, nll_loss, binary_cross_entropy, binary_cross_entropy_with_logits, l1_loss,
smooth_l1_loss, huber_loss and kl_div, with torch's arguments and defaults. cross_entropy
(class indices) is one fused C++ op (log-softmax, loss and gradient in one pass per row);
nll_loss and binary_cross_entropy are C++ ops too; the others are short compositions of
differentiable C++ ops. Re-exported by ``gdcore.nn.functional``.
"""
from __future__ import annotations

import warnings
from typing import Optional

from .. import _core
from .._core import Tensor

__all__ = ["cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "l1_loss",
           "smooth_l1_loss", "huber_loss", "kl_div", "softmax", "log_softmax"]

from .. import mathops as _mathops  # noqa: E402

_REDUCTIONS = ("mean", "sum", "none")


def softmax(input: Tensor, dim: Optional[int] = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, stable for large logits (torch.nn.functional's signature)."""
    return _mathops.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: Optional[int] = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """x - logsumexp(x) along ``dim``, computed stably (torch.nn.functional's signature)."""
    return _mathops.log_softmax(input, dim, dtype=dtype)


def _require_tensor(value, name: str, op: str) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a gdcore.Tensor, got {type(value).__name__}")


def _reduction(op: str, reduction: str, size_average=None, reduce=None, allowed=_REDUCTIONS) -> str:
    """torch's reduction, including its deprecated size_average/reduce pair (with torch's warning)."""
    if size_average is not None or reduce is not None:
        warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                      f"{'none' if reduce is False else ('sum' if size_average is False else 'mean')}' instead.",
                      UserWarning, stacklevel=3)
        reduce = True if reduce is None else reduce
        size_average = True if size_average is None else size_average
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in allowed:
        raise ValueError(f"{op}: reduction must be one of {allowed}, got {reduction!r}")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _check_class_target(input: Tensor, target: Tensor, op: str) -> None:
    if target.dtype.is_floating_point and tuple(target.shape) != tuple(input.shape):
        raise TypeError(f"{op}: target of shape {tuple(target.shape)} holds {target.dtype} values; class indices "
                        f"must be int64 (convert with target.long())"
                        + (f", and class probabilities must have the input's shape {tuple(input.shape)}"
                           if op == "cross_entropy" else ""))
    if not target.dtype.is_floating_point and target.dtype != _core.dtype.int64:
        raise TypeError(f"{op}: class indices must be int64, got {target.dtype}; convert with target.long()")


def cross_entropy(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy of logits ``input`` (N, C), (N, C, d1, ...) or unbatched (C,) against either
    int64 class indices ``target`` (N,), (N, d1, ...) or () -- or class probabilities of the
    input's shape. ``weight`` (C,) rescales each class; rows whose target is ``ignore_index`` are
    left out (of the mean's denominator too); ``label_smoothing`` mixes the target with the
    uniform distribution. 'mean' divides by the summed weights of the counted targets (by the
    number of rows for probability targets), as torch does."""
    _require_tensor(input, "input", "cross_entropy")
    _require_tensor(target, "target", "cross_entropy")
    if weight is not None:
        _require_tensor(weight, "weight", "cross_entropy")
    reduction = _reduction("cross_entropy", reduction, size_average, reduce)
    _check_class_target(input, target, "cross_entropy")
    return _core._cross_entropy(input, target, weight, int(ignore_index), float(label_smoothing), reduction)


def nll_loss(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: -weight[t] * input[n, t] for log-probabilities ``input`` (N, C),
    (N, C, d1, ...) or (C,) and int64 class indices ``target``; reductions as cross_entropy."""
    _require_tensor(input, "input", "nll_loss")
    _require_tensor(target, "target", "nll_loss")
    if weight is not None:
        _require_tensor(weight, "weight", "nll_loss")
    reduction = _reduction("nll_loss", reduction, size_average, reduce)
    _check_class_target(input, target, "nll_loss")
    if target.dtype.is_floating_point:
        raise TypeError(f"nll_loss: class indices must be int64, got {target.dtype}; convert with target.long()")
    return _core._nll_loss(input, target, weight, int(ignore_index), reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """-weight * (y log x + (1 - y) log(1 - x)) for probabilities ``input`` in [0, 1] and
    ``target`` of the same shape; each log is clamped at -100 (as torch), so 0 and 1 are safe."""
    _require_tensor(input, "input", "binary_cross_entropy")
    _require_tensor(target, "target", "binary_cross_entropy")
    if weight is not None:
        _require_tensor(weight, "weight", "binary_cross_entropy")
    reduction = _reduction("binary_cross_entropy", reduction, size_average, reduce)
    return _core._binary_cross_entropy(input, target, weight, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Optional[Tensor] = None) -> Tensor:
    """binary_cross_entropy(sigmoid(input), target) computed stably from the logits:
    (1 - y) x + (1 + (pos_weight - 1) y) (log(1 + exp(-|x|)) + max(-x, 0)), times ``weight``.
    ``pos_weight`` (broadcast over the last dim, e.g. (C,)) weighs the positive examples."""
    op = "binary_cross_entropy_with_logits"
    _require_tensor(input, "input", op)
    _require_tensor(target, "target", op)
    reduction = _reduction(op, reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{op}: Target size ({tuple(target.shape)}) must be the same as input size "
                         f"({tuple(input.shape)})")
    # log(1 + exp(-x)) = log1p(exp(-|x|)) + max(-x, 0): never overflows.
    log_sigmoid_neg = _core.log1p(_core.exp(-_core.abs(input))) + _core.relu(-input)
    if pos_weight is not None:
        _require_tensor(pos_weight, "pos_weight", op)
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * log_sigmoid_neg
    else:
        loss = (1 - target) * input + log_sigmoid_neg
    if weight is not None:
        _require_tensor(weight, "weight", op)
        loss = loss * weight
    return _reduce(loss, reduction)


def _same_shape(input: Tensor, target: Tensor, op: str) -> None:
    _require_tensor(input, "input", op)
    _require_tensor(target, "target", op)
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{op}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} differ; "
                         "broadcasting them would compare every prediction with every target. Reshape one to match")


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """|input - target|, averaged, summed or elementwise; shapes must match."""
    _same_shape(input, target, "l1_loss")
    return _core._l1_loss(input, target, _reduction("l1_loss", reduction, size_average, reduce))


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target); beta = 0 is l1_loss."""
    _same_shape(input, target, "smooth_l1_loss")
    reduction = _reduction("smooth_l1_loss", reduction, size_average, reduce)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    return _core._smooth_l1_loss(input, target, reduction, float(beta))


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta); equals delta * smooth_l1_loss with beta = delta."""
    _same_shape(input, target, "huber_loss")
    reduction = _reduction("huber_loss", reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    return _core._huber_loss(input, target, reduction, float(delta))


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Pointwise KL divergence target * (log target - input) for log-probabilities ``input``
    (0 where target is 0); with ``log_target`` the target is given as log-probabilities too.
    'batchmean' divides the sum by the batch size input.size(0) (the true KL divergence);
    'mean' divides by the number of elements, as torch does."""
    _require_tensor(input, "input", "kl_div")
    _require_tensor(target, "target", "kl_div")
    reduction = _reduction("kl_div", reduction, size_average, reduce, allowed=_REDUCTIONS + ("batchmean",))
    loss = _core._kl_div_pointwise(input, target, bool(log_target))
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.dim() > 0 else loss.sum()
    return _reduce(loss, reduction)
