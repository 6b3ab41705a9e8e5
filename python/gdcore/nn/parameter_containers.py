"""``nn.ParameterList`` and ``nn.ParameterDict``: lists and dicts of Parameters that a Module registers,
so ``parameters()``, optimizers and ``state_dict`` (keys ``'0'``, ``'1'``, ... or the dict's keys) see them.

As in torch 2.x, a plain tensor put in one becomes a Parameter (sharing its memory), so it must be
a float tensor; anything else is refused with the reason.
"""
from __future__ import annotations

from typing import Iterable, Iterator, Optional, Union

from .._core import Tensor
from .module import Module
from .parameter import Parameter

__all__ = ["ParameterList", "ParameterDict"]


def _as_parameter(value, where: str) -> Parameter:
    if isinstance(value, Parameter):
        return value
    if not isinstance(value, Tensor):
        raise TypeError(f"{where}: expected a gdcore.Tensor or nn.Parameter, got {type(value).__name__}")
    if not value.is_floating_point():
        raise RuntimeError(f"{where}: only tensors of floating point dtype can require gradients, got {value.dtype}; "
                           "convert with .float()")
    return Parameter(value)


def _line(p: Parameter) -> str:
    size = "x".join(str(s) for s in p.shape)
    return f"Parameter containing: [gdcore.{p.dtype.name} of size {size}]"


class ParameterList(Module):
    """A list of Parameters, registered under the names '0', '1', ..."""

    def __init__(self, values: Optional[Iterable[Tensor]] = None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._parameters.values())

    def _index(self, idx: int) -> int:
        if isinstance(idx, bool) or not isinstance(idx, int):
            raise TypeError(f"ParameterList indices must be integers or slices, not {type(idx).__name__}")
        if not -len(self) <= idx < len(self):
            raise IndexError(f"index {idx} is out of range for ParameterList of length {len(self)}")
        return idx % len(self)

    def __getitem__(self, idx: Union[int, slice]):
        values = list(self._parameters.values())
        if isinstance(idx, slice):
            return ParameterList(values[idx])
        return values[self._index(idx)]

    def __setitem__(self, idx: int, param: Tensor) -> None:
        self.register_parameter(str(self._index(idx)), _as_parameter(param, "ParameterList"))

    def append(self, value: Tensor) -> "ParameterList":
        """Adds ``value`` (a Parameter, or a float tensor made one) at the end; returns self."""
        self.register_parameter(str(len(self)), _as_parameter(value, "ParameterList.append"))
        return self

    def extend(self, values: Iterable[Tensor]) -> "ParameterList":
        if isinstance(values, Tensor) or not hasattr(values, "__iter__"):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got "
                            f"{type(values).__name__}")
        for v in values:
            self.append(v)
        return self

    def __iadd__(self, values: Iterable[Tensor]) -> "ParameterList":
        return self.extend(values)

    def extra_repr(self) -> str:
        return "\n".join(f"    ({k}): {_line(p)}" for k, p in self._parameters.items())

    def __repr__(self) -> str:
        if not self._parameters:
            return "ParameterList()"
        return "ParameterList(\n" + self.extra_repr() + "\n)"


class ParameterDict(Module):
    """A dict of Parameters with string keys (insertion order), registered under those keys."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def _key(self, key) -> str:
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict keys must be strings, got {type(key).__name__} ({key!r})")
        return key

    def __getitem__(self, key: str) -> Parameter:
        self._key(key)
        if key not in self._parameters:
            raise KeyError(key)
        return self._parameters[key]

    def __setitem__(self, key: str, value: Tensor) -> None:
        self.register_parameter(self._key(key), _as_parameter(value, f"ParameterDict[{key!r}]"))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __contains__(self, key) -> bool:
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()

    def get(self, key: str, default=None):
        return self._parameters.get(key, default)

    def pop(self, key: str) -> Parameter:
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        self._parameters.clear()

    def update(self, parameters) -> None:
        """Adds the parameters of a mapping or of an iterable of (key, tensor) pairs."""
        pairs = parameters.items() if hasattr(parameters, "items") else parameters
        for position, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"ParameterDict.update: element #{position} should be a (key, tensor) pair, got "
                                f"{pair!r}")
            self[pair[0]] = pair[1]

    def extra_repr(self) -> str:
        return "\n".join(f"    ({k}): {_line(p)}" for k, p in self._parameters.items())

    def __repr__(self) -> str:
        if not self._parameters:
            return "ParameterDict()"
        return "ParameterDict(\n" + self.extra_repr() + "\n)"
