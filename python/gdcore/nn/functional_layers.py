"""The functional forms of the classification layers: activations (leaky_relu, gelu, elu, silu,
softplus), dropout, batch_norm, layer_norm, embedding, avg_pool2d and adaptive_avg_pool2d.

avg_pool2d runs forward and backward in C++ (like max_pool2d); the others are compositions of
differentiable ops, so their gradients (and gradients of gradients) come from those ops. Values
that only select (dropout's keep mask, softplus's linear region) are computed as constant 0/1
tensors with ``floor``/``ceil``, which need no comparison op and carry no gradient.
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from .. import _core
from .._core import Generator, Tensor
from ..creation import int64, rand, tensor
from ..grad_mode import no_grad
from .functional import IntOrPair, _batched, _pair, _require_tensor

__all__ = ["leaky_relu", "gelu", "elu", "silu", "softplus", "dropout", "batch_norm", "layer_norm", "embedding",
           "avg_pool2d", "adaptive_avg_pool2d"]


def _require_float(input: Tensor, op: str) -> None:
    _require_tensor(input, "input", op)
    if not input.is_floating_point():
        raise TypeError(f"{op}: input is {input.dtype}; expected a floating-point tensor (convert with .float())")


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x >= 0, negative_slope * x below; any shape."""
    _require_float(input, "leaky_relu")
    return _core.relu(input) - negative_slope * _core.relu(-input)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) with Phi the standard normal CDF (``approximate='none'``, through erf), or
    torch's tanh approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    _require_float(input, "gelu")
    if approximate == "none":
        return 0.5 * input * (1.0 + _core.erf(input * (1.0 / math.sqrt(2.0))))
    if approximate == "tanh":
        inner = math.sqrt(2.0 / math.pi) * (input + 0.044715 * input * input * input)
        return 0.5 * input * (1.0 + _core.tanh(inner))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise (exp only ever sees x <= 0: no overflow)."""
    _require_float(input, "elu")
    return _core.relu(input) + alpha * (_core.exp(input.clamp(max=0.0)) - 1.0)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    _require_float(input, "silu")
    return input * _core.sigmoid(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, and x itself where beta * x > threshold (as torch).

    Written as relu(z) + log1p(exp(-|z|)) with z = beta x, which never overflows."""
    _require_float(input, "softplus")
    if beta == 0:
        raise ValueError("softplus: beta must be nonzero")
    z = input * beta
    smooth = (_core.relu(z) + _core.log1p(_core.exp(-_core.abs(z)))) / beta
    with no_grad():  # 1 where z > threshold, else 0: ceil of (z - threshold) clipped to [0, 1]
        linear = _core.ceil((z - threshold).clamp(0.0, 1.0))
    return linear * input + (1.0 - linear) * smooth


def _check_p(p, who: str) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{who}: dropout probability has to be between 0 and 1, but got {p!r}")
    return float(p)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
            generator: Optional[Generator] = None) -> Tensor:
    """Zeroes each element with probability p and scales the rest by 1 / (1 - p) when training;
    the identity otherwise. The mask is drawn from ``generator`` (default: gdcore's default
    generator, seeded by ``gdcore.manual_seed``), so runs are reproducible."""
    _require_float(input, "dropout")
    p = _check_p(p, "dropout")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    with no_grad():  # u ~ U[0, 1) is kept iff u >= p, i.e. floor(u + 1 - p) == 1
        u = rand(*input.shape, generator=generator, dtype=input.dtype)
        scaled_mask = _core.floor(u + (1.0 - p)) * (1.0 / (1.0 - p))
    return input * scaled_mask


def _reduce_dims(input: Tensor, op: str) -> Tuple[List[int], Tuple[int, ...]]:
    """BatchNorm's reduced dims (all but dim 1) and the shape a (C,) tensor broadcasts as."""
    if input.dim() < 2:
        raise ValueError(f"{op}: expected input of shape (N, C) or (N, C, *), got shape {tuple(input.shape)}")
    dims = [0] + list(range(2, input.dim()))
    return dims, (1, input.shape[1]) + (1,) * (input.dim() - 2)


def batch_norm(input: Tensor, running_mean: Optional[Tensor], running_var: Optional[Tensor],
               weight: Optional[Tensor] = None, bias: Optional[Tensor] = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalises each channel (dim 1) of (N, C) or (N, C, *) input.

    training (or no running statistics): by the batch's mean and biased variance, and the
    running statistics (if given) move towards the batch's mean and *unbiased* variance:
    ``running = (1 - momentum) * running + momentum * batch`` (in place). Otherwise by the
    running statistics. Then ``* weight + bias`` per channel when they are given.
    """
    _require_float(input, "batch_norm")
    dims, shape = _reduce_dims(input, "batch_norm")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(f"batch_norm: {name} must have shape ({channels},) for input with {channels} "
                             f"channels, got {tuple(t.shape)}")
    if training:
        count = input.numel() // channels
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{tuple(input.shape)}")
        mean = input.mean(dims, keepdim=True)
        centred = input - mean
        var = (centred * centred).mean(dims, keepdim=True)
        if running_mean is not None and running_var is not None:
            with no_grad():
                running_mean.mul_(1.0 - momentum).add_(mean.detach().reshape(channels) * momentum)
                running_var.mul_(1.0 - momentum).add_(var.detach().reshape(channels) * (momentum * count / (count - 1)))
        out = centred / _core.sqrt(var + eps)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
        out = (input - running_mean.reshape(shape)) / _core.sqrt(running_var.reshape(shape) + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def layer_norm(input: Tensor, normalized_shape: Union[int, Sequence[int]], weight: Optional[Tensor] = None,
               bias: Optional[Tensor] = None, eps: float = 1e-5) -> Tensor:
    """Normalises over the last len(normalized_shape) dims (which must equal normalized_shape)
    by their mean and biased variance, then ``* weight + bias`` (both of normalized_shape)."""
    _require_float(input, "layer_norm")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.dim() - k:]) != shape or input.dim() < k:
        raise ValueError(f"layer_norm: input of shape {tuple(input.shape)} does not end in normalized_shape "
                         f"{list(shape)}")
    dims = list(range(input.dim() - k, input.dim()))
    mean = input.mean(dims, keepdim=True)
    centred = input - mean
    out = centred / _core.sqrt((centred * centred).mean(dims, keepdim=True) + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def embedding(input: Tensor, weight: Tensor, padding_idx: Optional[int] = None) -> Tensor:
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by the int64 indices ``input``
    (any shape) -> input.shape + (embedding_dim,). The row at padding_idx gets no gradient."""
    _require_tensor(input, "input", "embedding")
    _require_tensor(weight, "weight", "embedding")
    if input.is_floating_point():
        raise TypeError(f"embedding: indices must be an integer tensor (int64), got {input.dtype}")
    if weight.dim() != 2:
        raise ValueError(f"embedding: weight must be 2-d (num_embeddings, embedding_dim), got {tuple(weight.shape)}")
    num = weight.shape[0]
    idx = input.numpy().astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise IndexError(f"embedding: index {bad} is out of range for {num} embeddings (valid: 0..{num - 1})")
    flat = tensor(idx.reshape(-1), dtype=int64)
    out = weight.index_select(0, flat)
    if padding_idx is not None:
        pad = padding_idx + num if padding_idx < 0 else padding_idx
        keep = (idx.reshape(-1, 1) != pad).astype(np.float64)
        if not keep.all():
            mask = tensor(keep, dtype=weight.dtype)
            out = out * mask + out.detach() * (1.0 - mask)  # same values; no gradient to the padding row
    return out.reshape(list(input.shape) + [weight.shape[1]])


def avg_pool2d(input: Tensor, kernel_size: IntOrPair, stride: Optional[IntOrPair] = None, padding: IntOrPair = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: Optional[int] = None) -> Tensor:
    """Mean over kernel_size windows moved by stride (default: kernel_size); padding counts as
    zeros, and in the divisor when count_include_pad (torch's default).

    input (N, C, H, W) or (C, H, W) -> (N, C, OH, OW) with OH = (H + 2*padding - kH) // stride + 1.
    """
    _require_tensor(input, "input", "avg_pool2d")
    if ceil_mode:
        raise ValueError("avg_pool2d: gdcore supports only ceil_mode=False")
    if divisor_override is not None:
        raise ValueError("avg_pool2d: gdcore does not support divisor_override; leave it None")
    kernel = _pair(kernel_size, "kernel_size", "avg_pool2d")
    step = kernel if stride is None or stride == [] or stride == () else _pair(stride, "stride", "avg_pool2d")
    pad = _pair(padding, "padding", "avg_pool2d")
    x, unbatched = _batched(input, "avg_pool2d")
    out = _core._avg_pool2d(x, kernel, step, pad, bool(count_include_pad))
    return out.squeeze(0) if unbatched else out


def _adaptive_matrix(size: int, out: int, dtype) -> Tensor:
    """(out, size): row i averages input positions floor(i*size/out) .. ceil((i+1)*size/out) - 1."""
    m = np.zeros((out, size))
    for i in range(out):
        start, end = (i * size) // out, -((-(i + 1) * size) // out)
        m[i, start:end] = 1.0 / (end - start)
    return tensor(m, dtype=dtype)


def adaptive_avg_pool2d(input: Tensor, output_size: Union[int, Tuple[Optional[int], Optional[int]]]) -> Tensor:
    """Average pooling to a fixed output size (OH, OW) with torch's windows: output row i
    averages rows floor(i*H/OH) .. ceil((i+1)*H/OH) - 1 (likewise columns). ``None`` in
    output_size keeps that dim. (N, C, H, W) or (C, H, W) -> (N, C, OH, OW).

    Each window's mean is a row mean then a column mean, so this is A_h @ x @ A_w^T with two
    small averaging matrices: two matmuls whatever the sizes."""
    _require_float(input, "adaptive_avg_pool2d")
    x, unbatched = _batched(input, "adaptive_avg_pool2d")
    h, w = x.shape[2], x.shape[3]
    if isinstance(output_size, int) and not isinstance(output_size, bool):
        output_size = (output_size, output_size)
    if not (isinstance(output_size, (tuple, list)) and len(output_size) == 2):
        raise TypeError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}")
    oh = h if output_size[0] is None else output_size[0]
    ow = w if output_size[1] is None else output_size[1]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in (oh, ow)):
        raise ValueError(f"adaptive_avg_pool2d: output sizes must be positive ints, got {output_size!r}")
    if h == 0 or w == 0:
        raise ValueError(f"adaptive_avg_pool2d: input of shape {tuple(input.shape)} has an empty plane")
    out = _core.matmul(_core.matmul(_adaptive_matrix(h, oh, x.dtype), x), _adaptive_matrix(w, ow, x.dtype).t())
    return out.squeeze(0) if unbatched else out
