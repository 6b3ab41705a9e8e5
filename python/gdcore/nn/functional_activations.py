"""More elementwise activations of torch.nn.functional: hardtanh, relu6, hardsigmoid, hardswish,
softsign, tanhshrink, logsigmoid, mish, selu and celu.

Each is a composition of differentiable ops (clamp, relu, exp, tanh, ...), so its gradient and
gradients of gradients come from those ops. The piecewise ones use clamp, whose gradient is 1
strictly inside the bounds and 0 outside, as torch's hardtanh backward.
"""
from __future__ import annotations

from .. import _core
from .._core import Tensor
from .functional_layers import _require_float, elu, softplus

__all__ = ["hardtanh", "relu6", "hardsigmoid", "hardswish", "softsign", "tanhshrink", "logsigmoid", "mish", "selu",
           "celu"]

# SELU's constants (Klambauer et al. 2017), as torch spells them.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]; any shape."""
    _require_float(input, "hardtanh")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got min_val={min_val} max_val={max_val}")
    return _core.clamp(input, float(min_val), float(max_val))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6); any shape."""
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """x / 6 + 1/2 clamped to [0, 1]; any shape."""
    _require_float(input, "hardsigmoid")
    return _core.clamp(input * (1.0 / 6.0) + 0.5, 0.0, 1.0)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * hardsigmoid(x) = x * relu6(x + 3) / 6; any shape."""
    _require_float(input, "hardswish")
    return input * hardsigmoid(input)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|); any shape."""
    _require_float(input, "softsign")
    return input / (_core.abs(input) + 1.0)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x); any shape."""
    _require_float(input, "tanhshrink")
    return input - _core.tanh(input)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), written as -(relu(-x) + log1p(exp(-|x|))): no overflow for any x."""
    _require_float(input, "logsigmoid")
    return -(_core.relu(-input) + _core.log1p(_core.exp(-_core.abs(input))))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)); any shape."""
    _require_float(input, "mish")
    return input * _core.tanh(softplus(input))


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * (x for x > 0, alpha * (exp(x) - 1) otherwise), with torch's alpha and scale."""
    _require_float(input, "selu")
    return elu(input, _SELU_ALPHA) * _SELU_SCALE


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise (torch's form, which is max(0, x) +
    min(0, alpha * (exp(x / alpha) - 1)) for alpha > 0); alpha must be nonzero."""
    _require_float(input, "celu")
    if alpha == 0:
        raise ValueError("celu: alpha must be nonzero (the formula divides by alpha)")
    return _core.relu(input) + alpha * (_core.exp(input.clamp(max=0.0) * (1.0 / alpha)) - 1.0)
