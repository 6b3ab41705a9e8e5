"""``nn.Sequential``: a chain of modules called in order, and ``nn.ModuleList``: a list of
registered submodules."""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterable, Iterator, Union

from .module import Module

__all__ = ["Sequential", "ModuleList"]


def _index(idx, length: int, kind: str) -> int:
    if not isinstance(idx, int) or isinstance(idx, bool):
        raise TypeError(f"{kind} indices must be integers or slices, not {type(idx).__name__}")
    if not -length <= idx < length:
        raise IndexError(f"index {idx} is out of range for {kind} of length {length}")
    return idx % length


class _IndexedModules(Module):
    """Shared list behaviour: children named '0', '1', ... in order."""

    def _check_module(self, module) -> Module:
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__} can only hold nn.Module objects, got {type(module).__name__}")
        return module

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, idx: Union[int, slice]):
        modules = list(self._modules.values())
        if isinstance(idx, slice):
            if isinstance(self, Sequential):
                return Sequential(OrderedDict(list(self._modules.items())[idx]))
            return ModuleList(modules[idx])
        return modules[_index(idx, len(modules), type(self).__name__)]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[_index(idx, len(self), type(self).__name__)]
        self._modules[key] = self._check_module(module)

    def __delitem__(self, idx: Union[int, slice]) -> None:
        keys = list(self._modules)
        doomed = keys[idx] if isinstance(idx, slice) else [keys[_index(idx, len(keys), type(self).__name__)]]
        for key in doomed:
            del self._modules[key]
        # Renumber so that names stay '0'..'n-1', as torch does.
        remaining = list(self._modules.values())
        self._modules.clear()
        for i, module in enumerate(remaining):
            self._modules[str(i)] = module

    def append(self, module: Module):
        """Adds ``module`` at the end; returns self."""
        self.add_module(str(len(self)), self._check_module(module))
        return self

    def extend(self, modules: Iterable[Module]):
        """Appends each of ``modules``; returns self."""
        for module in modules:
            self.append(module)
        return self


class Sequential(_IndexedModules):
    """Calls its modules in order, each on the previous one's output.

    ``Sequential(nn.Linear(5, 1))`` or ``Sequential(OrderedDict(fc=nn.Linear(5, 1)))`` (named children).
    """

    def __init__(self, *args: Module):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, self._check_module(module))
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), self._check_module(module))

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(_IndexedModules):
    """A list of submodules that registers them (so their parameters are found); no forward."""

    def __init__(self, modules: Iterable[Module] = ()):
        super().__init__()
        self.extend(modules)


class ModuleDict(Module):
    """A dict of registered submodules (string keys, insertion order); no forward.

    ``ModuleDict({'fc': nn.Linear(2, 3)})`` or from (key, module) pairs; ``state_dict`` keys are
    ``'<key>.<param>'``, as torch names them."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def pop(self, key: str) -> Module:
        """Removes ``key`` and returns its module."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        self._modules.clear()

    def update(self, modules) -> None:
        """Adds the modules of a mapping or of an iterable of (key, module) pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for position, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"ModuleDict.update: element #{position} should be a (key, module) pair, got {pair!r}")
            self.add_module(pair[0], pair[1])


__all__ += ["ModuleDict"]
