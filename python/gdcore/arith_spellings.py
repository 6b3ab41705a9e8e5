"""torch's keyword forms and aliases of the four arithmetic ops, over the C++ ops:
``add``/``sub`` with ``alpha=`` (``torch.add(a, b, alpha=2)`` is ``a + 2 * b``), ``subtract``,
``multiply``, ``div`` with ``rounding_mode=`` None (true division), ``'trunc'`` (towards zero) or
``'floor'`` (``floor_divide``), and ``divide``/``true_divide``; as functions and Tensor methods.
A call without the keyword goes straight to the C++ op.

Gradients: ``'trunc'`` has torch's zero gradient (``trunc`` of the quotient). ``'floor'`` is
``floor_divide``, whose backward raises (torch gives zeros there); detach the inputs to use it in
a differentiable computation.
"""
from __future__ import annotations

import inspect
import numbers
from typing import Optional

from . import _core
from ._core import Tensor
from ._tensor_method import tensor_method
from .pointwise import floor_divide, fmod

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide"]

mul = _core.mul


def _alias(fn, name: str, of: str, doc: str):
    """fn under torch's other name; a TypeError/ValueError names the function called (`multiply(): ...`)."""
    def alias(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (TypeError, ValueError) as err:
            text = str(err)
            if name in text:
                raise
            raise type(err)(text.replace(f"{of}()", f"{name}()", 1) if f"{of}()" in text else f"{name}(): {text}") from None
    alias.__name__ = alias.__qualname__ = name
    alias.__doc__ = doc
    try:
        alias.__signature__ = inspect.signature(fn)
    except (TypeError, ValueError):  # a C++ function: torch's (input, other)
        alias.__signature__ = inspect.Signature(
            [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in ("input", "other")])
    return alias


multiply = _alias(_core.mul, "multiply", "mul", "input * other (``torch.multiply``, torch's alias of mul).")


def _is_floating(value) -> bool:
    if isinstance(value, Tensor):
        return value.is_floating_point()
    return isinstance(value, float)


def _scaled(op: str, input, other, alpha):
    """other * alpha, refusing what torch refuses (a float alpha with integer operands)."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Number) or isinstance(alpha, complex):
        raise TypeError(f"{op}(): argument 'alpha' must be a number, got {type(alpha).__name__}")
    if isinstance(alpha, float) and not alpha.is_integer() and not (_is_floating(input) or _is_floating(other)):
        raise RuntimeError(f"{op}(): for integral input tensors, argument alpha must not be a floating point number "
                           f"(got {alpha})")
    return other * alpha


def add(input, other, *, alpha=1) -> Tensor:
    """input + alpha * other (``torch.add``)."""
    return _core.add(input, other if alpha == 1 else _scaled("add", input, other, alpha))


def sub(input, other, *, alpha=1) -> Tensor:
    """input - alpha * other (``torch.sub``)."""
    return _core.sub(input, other if alpha == 1 else _scaled("sub", input, other, alpha))


subtract = _alias(sub, "subtract", "sub", "input - alpha * other (``torch.subtract``, torch's alias of sub).")


def _trunc_divide(input, other) -> Tensor:
    if _is_floating(input) or _is_floating(other):
        return _core.trunc(_core.div(input, other))  # torch's float 'trunc': trunc(a / b)
    # Integers: a - fmod(a, b) is an exact multiple of b (moved towards zero, so it cannot overflow),
    # and floor division of an exact multiple is the quotient rounded towards zero.
    return floor_divide(input - fmod(input, other), other)


def div(input, other, *, rounding_mode: Optional[str] = None) -> Tensor:
    """input / other (``torch.div``): true division, or rounded towards zero ('trunc') or down ('floor')."""
    if rounding_mode is None:
        return _core.div(input, other)
    if rounding_mode == "trunc":
        return _trunc_divide(input, other)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found {rounding_mode!r}")


divide = _alias(div, "divide", "div", "input / other (``torch.divide``, torch's alias of div).")


true_divide = _alias(_core.div, "true_divide", "div", "input / other (``torch.true_divide``, true division).")


def _inplace(name: str, fn):
    def call(self, other, **kwargs):
        result = fn(self, other, **kwargs)
        if result.dtype != self.dtype:
            raise RuntimeError(f"result type {result.dtype} can't be cast to the desired output type {self.dtype} "
                               f"({name})")
        if self.requires_grad and _core.is_grad_enabled() and self.is_leaf:
            raise RuntimeError(f"a leaf tensor that requires grad is being used in an in-place operation ({name}); "
                               f"do the update under gdcore.no_grad() or on .data")
        self.copy_(result)
        return self
    return tensor_method(name, call, like=fn)


def install_methods() -> None:
    """x.sub(y, alpha=), x.div(y, rounding_mode=), their in-place forms, and the aliases as methods.
    The C++ methods stay the fast path: these only add the keywords."""
    fast_sub, fast_div = Tensor.sub, Tensor.div
    fast_sub_, fast_div_ = Tensor.sub_, Tensor.div_

    def method_sub(self, other, *, alpha=1):
        return fast_sub(self, other) if alpha == 1 else sub(self, other, alpha=alpha)

    def method_div(self, other, *, rounding_mode=None):
        return fast_div(self, other) if rounding_mode is None else div(self, other, rounding_mode=rounding_mode)

    slow_div_ = _inplace("div_", div)

    def method_sub_(self, other, *, alpha=1):  # (the C++ sub_ takes alpha: p.sub_(grad, alpha=lr) stays one loop)
        if alpha != 1:
            _scaled("sub_", self, other, alpha)  # torch's checks of alpha; the C++ op scales in its loop
            return fast_sub_(self, other, alpha)
        return fast_sub_(self, other)

    def method_div_(self, other, *, rounding_mode=None):
        return fast_div_(self, other) if rounding_mode is None else slow_div_(self, other, rounding_mode=rounding_mode)

    # sub_ stays the C++ method (it takes alpha already; hand-written updates p.sub_(lr * p.grad) are hot).
    # sub/div/div_ become plain functions, one Python frame over the C++ method, whose errors already name
    # the method; the aliases get tensor_method's renamed errors.
    for name, call in (("sub", method_sub), ("div", method_div), ("div_", method_div_)):
        call.__name__ = call.__qualname__ = name
        call.__doc__ = (sub if name.startswith("sub") else div).__doc__
        setattr(Tensor, name, call)
    for name, call, like in (("subtract", method_sub, sub), ("divide", method_div, div),
                             ("subtract_", method_sub_, sub), ("divide_", method_div_, div)):
        setattr(Tensor, name, tensor_method(name, call, like=like))
    def method_true_divide(self, other):
        return fast_div(self, other)

    Tensor.true_divide = tensor_method("true_divide", method_true_divide)
    Tensor.true_divide_ = tensor_method("true_divide_", lambda self, other: method_div_(self, other),
                                        like=method_true_divide)
    fast_mul, fast_mul_ = Tensor.mul, Tensor.mul_
    Tensor.multiply = tensor_method("multiply", lambda self, other: fast_mul(self, other), like=multiply)
    Tensor.multiply_ = tensor_method("multiply_", lambda self, other: fast_mul_(self, other), like=multiply)
