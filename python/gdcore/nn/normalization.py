"""Normalisation layers: ``nn.BatchNorm1d``, ``nn.BatchNorm2d`` (per-channel statistics of the
batch while training, running statistics in eval mode) and ``nn.LayerNorm`` (per-sample
statistics over the last dims, the same in both modes)."""
from __future__ import annotations

from typing import Optional, Sequence, Union

from .._core import Tensor
from ..creation import int64, ones, tensor, zeros
from ..default_dtype import get_default_dtype
from ..grad_mode import no_grad
from . import functional_layers as FL
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


class _BatchNorm(Module):
    _dims: tuple = ()  # the input ranks the subclass accepts

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: Optional[float] = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype=None):
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int) or num_features < 1:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive int, got {num_features!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1] or None, got {momentum!r}")
        dtype = get_default_dtype() if dtype is None else dtype
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype))
            self.bias = Parameter(zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def forward(self, input: Tensor) -> Tensor:
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a gdcore.Tensor, got {type(input).__name__}")
        if input.dim() not in self._dims:
            raise ValueError(f"{name}: expected {' or '.join(f'{d}-d' for d in self._dims)} input, "
                             f"got shape {tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{name}: input of shape {tuple(input.shape)} has {input.shape[1]} channels (dim 1) "
                             f"but the layer was built for num_features={self.num_features}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative moving average: the mean of all batches so far
                momentum = 1.0 / int(self.num_batches_tracked.item())
        # Batch statistics while training, and always when no running statistics are kept.
        use_batch = self.training or not self.track_running_stats
        update = self.training and self.track_running_stats
        return FL.batch_norm(input, self.running_mean if update or not use_batch else None,
                             self.running_var if update or not use_batch else None, self.weight, self.bias,
                             use_batch, momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Normalises each feature of (N, C) or (N, C, L) input over the batch (and L)."""
    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Normalises each channel of (N, C, H, W) input over the batch and the plane."""
    _dims = (4,)


class LayerNorm(Module):
    """Normalises each sample over its last len(normalized_shape) dims; elementwise_affine adds a
    learned weight (ones) and bias (zeros) of normalized_shape."""

    def __init__(self, normalized_shape: Union[int, Sequence[int]], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        if not shape or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be a positive int or a tuple of them, "
                             f"got {normalized_shape!r}")
        dtype = get_default_dtype() if dtype is None else dtype
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(*shape, dtype=dtype))
            self.bias = Parameter(zeros(*shape, dtype=dtype)) if bias else None
            if not bias:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        return FL.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
