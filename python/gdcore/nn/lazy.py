"""Lazy layers: ``nn.LazyLinear(out_features)`` learns ``in_features`` from its first input, as torch's.

Before the first call its weight and bias are ``UninitializedParameter`` objects (they hold
no values; asking their shape raises). The first call materialises them *in place*: the
same Parameter objects get their data (torch's default initialisation, from the global
generator) and become plain Parameters, so an optimizer built before the first call
updates them, as torch documents. The layer then turns into an ``nn.Linear``.
``load_state_dict`` into a lazy layer that was never called takes the shapes from the
checkpoint, as torch's lazy load hook does.
"""
from __future__ import annotations

from typing import Mapping

from .. import _core
from .._core import Tensor
from ..grad_mode import no_grad
from .linear import Linear, _check_size, _factory_dtype
from .module import Module
from .parameter import Parameter

__all__ = ["UninitializedParameter", "LazyModuleMixin", "LazyLinear", "is_lazy"]


def _uninitialized(what: str):
    raise ValueError(f"Attempted to use an uninitialized parameter in {what}. This error happens when you are using "
                     "a `LazyModule` (such as nn.LazyLinear) before its first call. Call the module (forward) with a "
                     "dummy batch to initialize the parameters first")


class UninitializedParameter(Parameter):
    """A Parameter whose shape is not known yet; ``materialize(shape)`` gives it data in place."""

    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device=None, dtype=None) -> None:
        super().__init__(_core._full([0], 0.0, _factory_dtype(dtype, device), False), requires_grad)

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Gives this parameter zeros of ``shape`` (same object) and makes it a plain Parameter."""
        dt = self.dtype if dtype is None else _factory_dtype(dtype, device)
        with no_grad():
            self.data = _core._full([int(s) for s in shape], 0.0, dt, False)
        self.__class__ = self.cls_to_become

    # The shape-like questions torch refuses on an uninitialized parameter.
    @property
    def shape(self):
        _uninitialized("shape")

    def size(self, dim=None):
        _uninitialized("size()")

    def numel(self):
        _uninitialized("numel()")

    def dim(self):
        _uninitialized("dim()")

    def detach(self):
        # state_dict() stores the parameter itself, as torch's lazy modules do, so a checkpoint says "uninitialized".
        return self

    def __repr__(self) -> str:
        return "<UninitializedParameter>"

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return _rebuild_uninitialized, (self.requires_grad, self.dtype.name)

    def __deepcopy__(self, memo) -> "UninitializedParameter":
        if id(self) not in memo:
            memo[id(self)] = UninitializedParameter(self.requires_grad, dtype=self.dtype)
        return memo[id(self)]


def _rebuild_uninitialized(requires_grad: bool, dtype_name: str) -> UninitializedParameter:
    return UninitializedParameter(requires_grad, dtype=dtype_name)


def is_lazy(param) -> bool:
    """True for a parameter that is not materialised yet."""
    return isinstance(param, UninitializedParameter)


class LazyModuleMixin:
    """Mixed in before a layer class: ``initialize_parameters(*inputs)`` runs at the first call (no grad),
    after which the module becomes ``cls_to_become``."""

    cls_to_become = None

    def has_uninitialized_params(self) -> bool:
        return any(is_lazy(p) for p in self._parameters.values()) or any(
            is_lazy(b) for b in self._buffers.values())

    def initialize_parameters(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define initialize_parameters")

    def _finish_initialization(self) -> None:
        if self.has_uninitialized_params():
            raise RuntimeError(f"module {type(self).__name__} has not been fully initialized")
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become

    def __call__(self, *args, **kwargs):
        if self.has_uninitialized_params():
            with no_grad():
                self.initialize_parameters(*args, **kwargs)
            self._finish_initialization()
        return self.forward(*args, **kwargs)

    def _materialize_from_state_dict(self, state_dict: Mapping, prefix: str) -> None:
        """Gives uninitialized parameters the shapes of the checkpoint's tensors (called by load_state_dict)."""
        for name, p in self._parameters.items():
            value = state_dict.get(prefix + name)
            if is_lazy(p) and isinstance(value, Tensor) and not is_lazy(value):
                p.materialize(value.shape)


class LazyLinear(LazyModuleMixin, Linear):
    """``nn.Linear`` whose ``in_features`` is the size of the last dimension of its first input.

    ``LazyLinear(out_features, bias=True)``: input (*, in_features) -> (*, out_features). Becomes an
    ``nn.Linear`` after the first call (or after loading a checkpoint).
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        Module.__init__(self)
        self.in_features = 0
        self.out_features = _check_size(out_features, "out_features", "LazyLinear")
        dt = _factory_dtype(dtype, device)
        self.weight = UninitializedParameter(dtype=dt)
        if bias:
            self.bias = UninitializedParameter(dtype=dt)
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        if not isinstance(input, Tensor):
            raise TypeError(f"LazyLinear: expected a gdcore.Tensor input, got {type(input).__name__}")
        if input.dim() == 0:
            raise ValueError("LazyLinear: the input must have at least one dimension (the features), got a 0-d tensor")
        self.in_features = input.shape[-1]
        self.weight.materialize((self.out_features, self.in_features))
        if self.bias is not None:
            self.bias.materialize((self.out_features,))
        self.reset_parameters()

    def _materialize_from_state_dict(self, state_dict: Mapping, prefix: str) -> None:
        super()._materialize_from_state_dict(state_dict, prefix)
        if not self.has_uninitialized_params():
            self.in_features = self.weight.shape[1]
            self._finish_initialization()
