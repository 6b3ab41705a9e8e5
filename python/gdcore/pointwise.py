"""Elementwise ops of everyday PyTorch code (issue 11's breadth round), with torch's names,
aliases and argument forms: ``%`` and ``//`` (remainder, fmod, floor_divide), the inverse
trigonometric and hyperbolic functions, atan2, hypot, exp2, logit, xlogy, lerp and the fused
multiply-adds (addmm, addmv, baddbmm, addcmul, addcdiv).

remainder ... hypot are C++ ops (cpp/src/ops/remainder.cpp, inverse_trig.cpp); the others are
compositions of differentiable ops, which gives torch's gradients. ``install_methods`` makes
them Tensor methods, the operators and the in-place forms (``x %= 3``, ``m.lerp_(g, 0.1)``).
"""
from __future__ import annotations

import numbers
from typing import Optional, Union

from . import _core
from ._core import Tensor
from ._tensor_method import tensor_method

__all__ = ["remainder", "fmod", "floor_divide", "asin", "acos", "atan", "asinh", "acosh", "atanh", "arcsin",
           "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "atan2", "arctan2", "hypot", "exp2", "logit",
           "xlogy", "lerp", "addmm", "addmv", "baddbmm", "addcmul", "addcdiv"]

Number = Union[int, float]

remainder, fmod, floor_divide = _core.remainder, _core.fmod, _core.floor_divide
asin, acos, atan, asinh, acosh, atanh = _core.asin, _core.acos, _core.atan, _core.asinh, _core.acosh, _core.atanh
atan2, hypot, exp2 = _core.atan2, _core.hypot, _core.exp2


# numpy's names, which torch accepts too (functions of their own, so that messages name the alias used)
def arcsin(input: Tensor) -> Tensor:
    """Alias of asin."""
    return _core.asin(input)


def arccos(input: Tensor) -> Tensor:
    """Alias of acos."""
    return _core.acos(input)


def arctan(input: Tensor) -> Tensor:
    """Alias of atan."""
    return _core.atan(input)


def arcsinh(input: Tensor) -> Tensor:
    """Alias of asinh."""
    return _core.asinh(input)


def arccosh(input: Tensor) -> Tensor:
    """Alias of acosh."""
    return _core.acosh(input)


def arctanh(input: Tensor) -> Tensor:
    """Alias of atanh."""
    return _core.atanh(input)


def arctan2(input: Union[Tensor, float], other: Union[Tensor, float]) -> Tensor:
    """Alias of atan2."""
    return _core.atan2(input, other)


def _require_tensor(value, op: str, name: str = "input") -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be a gdcore.Tensor, got {type(value).__name__}")


def _require_number(value, op: str, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}(): argument '{name}' must be a number, got {type(value).__name__}")


def logit(input: Tensor, eps: Optional[float] = None) -> Tensor:
    """log(p / (1 - p)), elementwise; with ``eps`` p is first clamped to [eps, 1 - eps] (the gradient
    is then 0 outside that range, as torch's). Integer inputs give float32. Any shape."""
    _require_tensor(input, "logit")
    p = input
    if eps is not None:
        _require_number(eps, "logit", "eps")
        p = _core.clamp(input if input.is_floating_point() else input.float(), eps, 1.0 - eps)
    return _core.log(p / (1 - p))


def _scalar(value) -> Tensor:
    """A Python number as a 0-d float tensor (it does not widen the other operand's float dtype)."""
    from .creation import tensor
    return tensor(float(value))


def xlogy(input, other) -> Tensor:
    """input * log(other), 0 where input is 0 (unless other is NaN), with broadcasting; either may be a
    number. The gradient for input at input == 0 and other <= 0 is 0, as torch's (torch gives NaN for
    other's gradient at 0, 0; this gives 0)."""
    x = input if isinstance(input, Tensor) else None
    y = other if isinstance(other, Tensor) else None
    if x is None and y is None:
        raise TypeError(f"xlogy(): at least one of 'input' and 'other' must be a Tensor, got "
                        f"{type(input).__name__} and {type(other).__name__}")
    if x is None:
        _require_number(input, "xlogy", "input")
        x = _scalar(input)
    if y is None:
        _require_number(other, "xlogy", "other")
        y = _scalar(other)
    if not y.is_floating_point():
        y = y.float() if not x.is_floating_point() else y.to(x.dtype)
    # log(1) = 0 where x == 0 and y <= 0, so that 0 * log(0) gives 0 and no inf/NaN reaches the gradients.
    safe = _core.where(_core.logical_and(x == 0, y <= 0), 1.0, y)
    return x * _core.log(safe)


def _check_same_float(op: str, **tensors) -> None:
    items = list(tensors.items())
    first_name, first = items[0]
    for name, t in items[1:]:
        if isinstance(t, Tensor) and t.dtype != first.dtype:
            raise RuntimeError(f"{op}(): expected dtype {first.dtype} for '{name}' (the dtype of '{first_name}') "
                               f"but got {t.dtype}; convert with .to({first.dtype})")
    if not first.is_floating_point():
        raise RuntimeError(f"{op}(): not implemented for {first.dtype} tensors; it takes float32 or float64 "
                           f"(convert with .float())")


def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """input + weight * (end - input), with broadcasting; weight a number or a tensor. Like torch it
    computes end - (end - input) * (1 - weight) where |weight| >= 0.5, so weight 1 gives end exactly."""
    _require_tensor(input, "lerp")
    _require_tensor(end, "lerp", "end")
    if isinstance(weight, Tensor):
        _check_same_float("lerp", input=input, end=end, weight=weight)
        diff = end - input
        near_start = weight.abs() < 0.5
        return _core.where(near_start, input + weight * diff, end - diff * (1 - weight))
    _require_number(weight, "lerp", "weight")
    _check_same_float("lerp", input=input, end=end)
    diff = end - input
    if abs(weight) < 0.5:
        return input + diff * weight
    return end - diff * (1 - weight)


def _broadcasts_to(input: Tensor, shape, op: str) -> None:
    """torch's addmm & co. broadcast `input` to the product's shape, never the other way."""
    ins, out = tuple(input.shape), tuple(shape)
    ok = len(ins) <= len(out) and all(i in (1, o) for i, o in zip(ins[::-1], out[::-1]))
    if not ok:
        raise RuntimeError(f"{op}(): input of shape {list(ins)} cannot be broadcast to the product's shape "
                           f"{list(out)}")


def _scaled_sum(op: str, input: Tensor, product: Tensor, beta, alpha) -> Tensor:
    _require_number(beta, op, "beta")
    _require_number(alpha, op, "alpha")
    if not product.is_floating_point() and (isinstance(beta, float) or isinstance(alpha, float)):
        raise RuntimeError(f"{op}(): for integer tensors, beta and alpha must be integers, got beta={beta!r}, "
                           f"alpha={alpha!r}")
    _broadcasts_to(input, product.shape, op)
    term = product if alpha == 1 else product * alpha
    if beta == 0:  # input is ignored (its NaN or inf does not propagate), as torch documents
        return term.clone() if term is product else term
    return (input if beta == 1 else input * beta) + term


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2): mat1 (n, m), mat2 (m, p), input broadcast to (n, p)."""
    for name, t in (("input", input), ("mat1", mat1), ("mat2", mat2)):
        _require_tensor(t, "addmm", name)
    if mat1.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"addmm(): mat1 and mat2 must be matrices (2-D), got {mat1.dim()}-D and {mat2.dim()}-D")
    return _scaled_sum("addmm", input, _core.mm(mat1, mat2), beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
    """beta * input + alpha * (mat @ vec): mat (n, m), vec (m,), input broadcast to (n,)."""
    for name, t in (("input", input), ("mat", mat), ("vec", vec)):
        _require_tensor(t, "addmv", name)
    return _scaled_sum("addmv", input, _core.mv(mat, vec), beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2): batch1 (b, n, m), batch2 (b, m, p), input broadcast to (b, n, p)."""
    for name, t in (("input", input), ("batch1", batch1), ("batch2", batch2)):
        _require_tensor(t, "baddbmm", name)
    if batch1.dim() != 3 or batch2.dim() != 3:
        raise RuntimeError(f"baddbmm(): batch1 and batch2 must be 3-D, got {batch1.dim()}-D and {batch2.dim()}-D")
    return _scaled_sum("baddbmm", input, _core.bmm(batch1, batch2), beta, alpha)


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Number = 1) -> Tensor:
    """input + value * tensor1 * tensor2, with broadcasting of all three."""
    for name, t in (("input", input), ("tensor1", tensor1), ("tensor2", tensor2)):
        _require_tensor(t, "addcmul", name)
    _require_number(value, "addcmul", "value")
    product = tensor1 * tensor2
    return input + (product if value == 1 else product * value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Number = 1) -> Tensor:
    """input + value * tensor1 / tensor2, with broadcasting of all three."""
    for name, t in (("input", input), ("tensor1", tensor1), ("tensor2", tensor2)):
        _require_tensor(t, "addcdiv", name)
    _require_number(value, "addcdiv", "value")
    if not tensor1.is_floating_point() and not tensor2.is_floating_point():
        raise RuntimeError("addcdiv(): integer division with addcdiv is not supported (as in torch); use "
                           "addcmul(input, tensor1, tensor2.reciprocal()) for true division, or floor_divide")
    quotient = tensor1 / tensor2
    return input + (quotient if value == 1 else quotient * value)


# ---- operators, methods and in-place forms ----

def _category(dtype) -> int:
    return 2 if dtype.is_floating_point else (0 if dtype == _core.dtype.bool else 1)


def _write_inplace(self: Tensor, result: Tensor, name: str) -> Tensor:
    if _category(result.dtype) > _category(self.dtype):
        raise RuntimeError(f"{name}: result type {result.dtype} can't be cast to the desired output type {self.dtype} "
                           f"(the in-place target); use the out-of-place op")
    if tuple(result.shape) != tuple(self.shape):
        raise RuntimeError(f"{name}: output with shape {list(self.shape)} doesn't match the broadcast shape "
                           f"{list(result.shape)}; use the out-of-place op")
    self.copy_(result)  # (with autograd history, copy_ makes the result self's history)
    return self


def _inplace(fn, name: str):
    def call(self, *args, **kwargs):
        tracked = self.requires_grad and _core.is_grad_enabled()
        if tracked and self.is_leaf:
            raise RuntimeError(f"a leaf tensor that requires grad is being used in an in-place operation ({name}); "
                               f"do the update under gdcore.no_grad() or on .data")
        # With history, the op reads a copy: self is overwritten below and the op may have saved its input.
        return _write_inplace(self, fn(self.clone() if tracked else self, *args, **kwargs), name)
    doc = f"In-place {fn.__name__}: writes the result into self (its dtype and shape) and returns self."
    return tensor_method(name, call, like=fn, doc=doc)


def _operator(fn, reflected: bool):
    def op(self, other):
        if isinstance(other, complex) or not isinstance(other, (Tensor, numbers.Number)):
            return NotImplemented
        return fn(other, self) if reflected else fn(self, other)
    return op


def _method(fn, name: str):
    return tensor_method(name, lambda self, *args, **kwargs: fn(self, *args, **kwargs), like=fn)


def install_methods() -> None:
    """Tensor methods (x.remainder(3), x.asin(), m.lerp(e, 0.5), ...), their in-place forms
    (x.remainder_(3), m.lerp_(e, 0.5), v.addcmul_(g, g, value=0.1)) and the operators % and //."""
    functions = {
        "remainder": remainder, "fmod": fmod, "floor_divide": floor_divide, "asin": asin, "acos": acos,
        "atan": atan, "asinh": asinh, "acosh": acosh, "atanh": atanh, "arcsin": arcsin, "arccos": arccos,
        "arctan": arctan, "arcsinh": arcsinh, "arccosh": arccosh, "arctanh": arctanh, "atan2": atan2,
        "arctan2": arctan2, "hypot": hypot, "exp2": exp2, "logit": logit, "xlogy": xlogy, "lerp": lerp,
        "addmm": addmm, "addmv": addmv, "baddbmm": baddbmm, "addcmul": addcmul, "addcdiv": addcdiv,
    }
    for name, fn in functions.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, _method(fn, name))
        if not hasattr(Tensor, name + "_"):
            setattr(Tensor, name + "_", _inplace(fn, name + "_"))
    Tensor.__mod__ = _operator(remainder, False)
    Tensor.__rmod__ = _operator(remainder, True)
    Tensor.__floordiv__ = _operator(floor_divide, False)
    Tensor.__rfloordiv__ = _operator(floor_divide, True)
    Tensor.__imod__ = _inplace(remainder, "__imod__")
    Tensor.__ifloordiv__ = _inplace(floor_divide, "__ifloordiv__")
