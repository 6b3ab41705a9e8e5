"""``gdcore.nn.functional``: the stateless forms of the layers, with torch's names and
arguments. They only check and normalise arguments (an int or a pair for sizes) and call
the differentiable C++ ops; conv2d and max_pool2d run forward and backward in C++.
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

from .. import _core
from .._core import Tensor

__all__ = ["linear", "relu", "sigmoid", "tanh", "conv2d", "max_pool2d", "mse_loss"]

IntOrPair = Union[int, Tuple[int, int]]


def _pair(value, name: str, op: str) -> Tuple[int, int]:
    """An int or a pair of ints as a (height, width) pair."""
    if isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return (int(value[0]), int(value[1]))
    raise TypeError(f"{op}: {name} must be an int or a pair of ints (height, width), got {value!r}")


def _require_tensor(value, name: str, op: str) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a gdcore.Tensor, got {type(value).__name__}")


def _only_default(value, default, name: str, op: str) -> None:
    """Refuses the torch options gdcore does not implement (dilation, groups) unless left at the default."""
    if isinstance(value, list):
        value = tuple(value)
    if value != default and value != (default, default):
        raise ValueError(f"{op}: gdcore supports only {name}={default!r}, got {value!r}")


def _batched(input: Tensor, op: str) -> Tuple[Tensor, bool]:
    """(N, C, H, W) as is; an unbatched (C, H, W) image gets a batch dim (removed again afterwards)."""
    if input.dim() == 3:
        return input.unsqueeze(0), True
    if input.dim() != 4:
        raise ValueError(f"{op}: expected input of shape (N, C, H, W) or (C, H, W), got shape {tuple(input.shape)}")
    return input, False


def linear(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None) -> Tensor:
    """``input @ weight.T + bias``: input (*, in_features), weight (out_features, in_features),
    bias (out_features,) or None -> (*, out_features)."""
    _require_tensor(input, "input", "linear")
    _require_tensor(weight, "weight", "linear")
    if weight.dim() != 2:
        raise ValueError(f"linear: weight must be 2-d (out_features, in_features), got shape {tuple(weight.shape)}")
    # size(d) is one C++ call; .shape builds a Size (a tuple subclass): only for the messages
    if input.dim() == 0 or input.size(-1) != weight.size(1):
        raise ValueError(f"linear: input of shape {tuple(input.shape)} has {input.shape[-1] if input.dim() else 0} "
                         f"features but weight of shape {tuple(weight.shape)} expects {weight.shape[1]} "
                         "(in_features); check the layer sizes")
    out = _core.matmul(input, weight.t())
    if bias is not None:
        _require_tensor(bias, "bias", "linear")
        if bias.dim() != 1 or bias.size(0) != weight.size(0):
            raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {tuple(bias.shape)}")
        out = out + bias
    return out


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0) elementwise. ``inplace`` is accepted for torch compatibility; the result is
    always a new tensor (the values are the same)."""
    return _core.relu(input)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-input)) elementwise."""
    return _core.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """tanh(input) elementwise."""
    return _core.tanh(input)


def _conv_padding(padding, kernel: Tuple[int, int], stride: Tuple[int, int]) -> Tuple[int, int]:
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"conv2d: padding='same' needs stride 1, got stride {stride}")
        if kernel[0] % 2 == 0 or kernel[1] % 2 == 0:
            raise ValueError(f"conv2d: padding='same' needs odd kernel sizes in gdcore, got {kernel}; "
                             "pass an explicit padding instead")
        return (kernel[0] // 2, kernel[1] // 2)
    if isinstance(padding, str):
        raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    return _pair(padding, "padding", "conv2d")


def conv2d(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: IntOrPair = 1,
           padding: Union[IntOrPair, str] = 0, dilation: IntOrPair = 1, groups: int = 1) -> Tensor:
    """2-d cross-correlation (what deep learning calls convolution) with zero padding.

    input (N, C, H, W) or (C, H, W), weight (O, C, kH, kW), bias (O,) or None
    -> (N, O, OH, OW) with OH = (H + 2*padding - kH) // stride + 1 (and likewise OW).
    """
    _require_tensor(input, "input", "conv2d")
    _require_tensor(weight, "weight", "conv2d")
    if bias is not None:
        _require_tensor(bias, "bias", "conv2d")
    _only_default(dilation, 1, "dilation", "conv2d")
    _only_default(groups, 1, "groups", "conv2d")
    stride = _pair(stride, "stride", "conv2d")
    if weight.dim() != 4:
        raise ValueError(f"conv2d: expected weight of shape (out_channels, in_channels, kH, kW), "
                         f"got shape {tuple(weight.shape)}")
    padding = _conv_padding(padding, (weight.shape[2], weight.shape[3]), stride)
    x, unbatched = _batched(input, "conv2d")
    out = _core._conv2d(x, weight, bias, stride, padding)
    return out.squeeze(0) if unbatched else out


def max_pool2d(input: Tensor, kernel_size: IntOrPair, stride: Optional[IntOrPair] = None, padding: IntOrPair = 0,
               dilation: IntOrPair = 1, ceil_mode: bool = False, return_indices: bool = False):
    """Max over kernel_size windows moved by stride (default: kernel_size), padding counting as -inf.

    input (N, C, H, W) or (C, H, W) -> (N, C, OH, OW) with OH = (H + 2*padding - kH) // stride + 1.
    With return_indices, also the int64 flat positions (h * W + w) of the maxima in each plane.
    """
    _require_tensor(input, "input", "max_pool2d")
    _only_default(dilation, 1, "dilation", "max_pool2d")
    if ceil_mode:
        raise ValueError("max_pool2d: gdcore supports only ceil_mode=False")
    kernel = _pair(kernel_size, "kernel_size", "max_pool2d")
    step = kernel if stride is None or stride == [] or stride == () else _pair(stride, "stride", "max_pool2d")
    pad = _pair(padding, "padding", "max_pool2d")
    x, unbatched = _batched(input, "max_pool2d")
    values, indices = _core._max_pool2d(x, kernel, step, pad)
    if unbatched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return (values, indices) if return_indices else values


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean (or sum, or elementwise with 'none') of (input - target)^2; shapes must match exactly."""
    _require_tensor(input, "input", "mse_loss")
    _require_tensor(target, "target", "mse_loss")
    return _core.mse_loss(input, target, reduction)


# The classification and robust-regression losses, softmax and log_softmax (nn/functional_losses.py).
from .functional_losses import (  # noqa: E402
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, huber_loss, kl_div, l1_loss, log_softmax,
    nll_loss, smooth_l1_loss, softmax,
)

__all__ += ["cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "l1_loss",
            "smooth_l1_loss", "huber_loss", "kl_div", "softmax", "log_softmax"]


# The functional forms of the classification layers (nn/functional_layers.py).
from .functional_layers import (  # noqa: E402
    adaptive_avg_pool2d, avg_pool2d, batch_norm, dropout, elu, embedding, gelu, layer_norm, leaky_relu, silu, softplus,
)

__all__ += ["leaky_relu", "gelu", "elu", "silu", "softplus", "dropout", "batch_norm", "layer_norm", "embedding",
            "avg_pool2d", "adaptive_avg_pool2d"]


# More activations and the vector utilities of issue 11's breadth round (functional_activations.py,
# functional_vectors.py).
from .functional_activations import (  # noqa: E402
    celu, hardsigmoid, hardswish, hardtanh, logsigmoid, mish, relu6, selu, softsign, tanhshrink,
)
from .functional_vectors import cosine_similarity, normalize, one_hot, pad, pairwise_distance  # noqa: E402

from .functional_1d import avg_pool1d, conv1d, max_pool1d  # noqa: E402

__all__ += ["hardtanh", "relu6", "hardsigmoid", "hardswish", "softsign", "tanhshrink", "logsigmoid", "mish", "selu",
            "celu", "one_hot", "pad", "normalize", "cosine_similarity", "pairwise_distance", "conv1d", "max_pool1d",
            "avg_pool1d"]


# Wrong-type arguments get a message naming the function, the argument and the wanted type (_argument_check).
from .._argument_check import install as _install_argument_check  # noqa: E402

_install_argument_check(globals(), "nn.functional.")
