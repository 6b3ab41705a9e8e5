"""torch's in-place math methods (``x.exp_()``, ``x.clamp_(0, 1)``, ``x.relu_()``, ...) and ``clip``,
torch's other name for ``clamp``.

Each in-place method computes the out-of-place op and writes it back with ``copy_``, which the core
records on the tape, so gradients flow through ``y = x * 2; y.exp_()`` as in torch and a leaf that
requires grad is refused with the core's message. When the tensor is part of a graph the op reads a
clone of it: an op that saves its input for backward (log, sqrt's input, pow) would otherwise see the
overwritten values (the core's version counter would refuse the backward). As torch does, a result
whose dtype the tensor cannot hold (``int_tensor.exp_()``) raises instead of being cast.
"""
from __future__ import annotations

from . import _core
from ._core import Tensor
from .grad_mode import is_grad_enabled

__all__ = ["clip", "clip_", "clamp_", "negative", "absolute", "relu_", "sigmoid_", "tanh_", "exp_", "sqrt_", "abs_", "neg_"]

# torch's names of the dtypes, for its "can't be cast" message.
_TORCH_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "int16": "Short",
                "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _torch_name(dtype) -> str:
    return _TORCH_NAMES.get(dtype.name, dtype.name)


def apply_inplace(self: Tensor, fn, name: str, *args, **kwargs) -> Tensor:
    """self = fn(self, *args, **kwargs), in place (recorded for autograd); returns self."""
    if not isinstance(self, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be a gdcore.Tensor, got {type(self).__name__}")
    source = self.clone() if self.requires_grad and is_grad_enabled() else self
    try:
        result = fn(source, *args, **kwargs)
    except (TypeError, ValueError) as err:  # the out-of-place op's message, said as the in-place method's
        raise type(err)(f"Tensor.{name}(): {err}") from err
    if result.dtype != self.dtype:
        raise RuntimeError(f"{name}: result type {_torch_name(result.dtype)} can't be cast to the desired output "
                           f"type {_torch_name(self.dtype)}")
    if tuple(result.shape) != tuple(self.shape):
        raise RuntimeError(f"{name}: output with shape {list(self.shape)} doesn't match the broadcast shape "
                           f"{list(result.shape)}")
    self.copy_(result)
    return self


def clip(input: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    """torch's other name for clamp: ``input`` limited to [min, max] (numbers or tensors)."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min or max must be given")
    try:
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            return _clamp_tensors(input, min, max)
        return _core.clamp(input, min, max)
    except TypeError as err:
        raise TypeError(f"clip(): {err}") from err


def negative(input: Tensor) -> Tensor:
    """torch's other name for neg: -input."""
    return _core.neg(input)


def absolute(input: Tensor) -> Tensor:
    """torch's other name for abs: |input|."""
    return _core.abs(input)


def _clamp_tensors(input: Tensor, min, max) -> Tensor:  # noqa: A002
    out = input
    if min is not None:
        out = _core.clamp_min(out, min)
    if max is not None:
        out = _core.clamp_max(out, max)
    return out


def clamp_(input: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    """In-place clamp: ``input`` limited to [min, max]; returns ``input``."""
    return apply_inplace(input, clip, "clamp_", min, max)


def clip_(input: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    """In-place clip (clamp): ``input`` limited to [min, max]; returns ``input``."""
    return apply_inplace(input, clip, "clip_", min, max)


def _unary(name: str, alias: str = ""):
    fn = getattr(_core.Tensor, name)
    called = f"{alias or name}_"

    def method(self: Tensor, *args, **kwargs) -> Tensor:
        return apply_inplace(self, fn, called, *args, **kwargs)
    method.__name__ = method.__qualname__ = called
    method.__doc__ = f"In-place {name}: this tensor becomes its {name}; returns it."
    return method


# The out-of-place methods that exist in gdcore whose in-place twins torch code calls.
_UNARY = ("abs", "neg", "exp", "log", "sqrt", "sigmoid", "tanh", "relu", "floor", "ceil", "round", "trunc", "fix",
          "sin", "cos", "tan", "sinh", "cosh", "reciprocal", "rsqrt", "square", "sign", "log1p", "expm1", "log2",
          "log10", "erf", "erfinv", "pow", "clamp_min", "clamp_max")

relu_ = _unary("relu")
sigmoid_ = _unary("sigmoid")
tanh_ = _unary("tanh")
exp_ = _unary("exp")
sqrt_ = _unary("sqrt")
abs_ = _unary("abs")
neg_ = _unary("neg")


def install_methods() -> None:
    """The in-place methods, clip and the aliases torch has (negative, absolute), on Tensor."""
    from .shape_ops import as_method
    for name in _UNARY:
        if hasattr(Tensor, name) and not hasattr(Tensor, f"{name}_"):
            setattr(Tensor, f"{name}_", _unary(name))
    extra = {"clamp_": clamp_, "clip_": clip_, "clip": clip, "negative": negative, "absolute": absolute}
    for name, fn in extra.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, as_method(fn, name))
    for name, alias_of in (("negative_", "neg"), ("absolute_", "abs")):
        if not hasattr(Tensor, name):
            setattr(Tensor, name, _unary(alias_of, name[:-1]))
