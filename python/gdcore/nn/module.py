"""``nn.Module``: the base class of layers and models, as in torch.

A Module keeps three ordered registries filled by plain attribute assignment:
parameters (``nn.Parameter``), buffers (tensors registered with ``register_buffer``)
and submodules (any ``Module``). Everything else (``parameters()``, ``state_dict()``,
``zero_grad()``, ``train()``/``eval()``, ``to(dtype)``, the repr) walks those registries.
No math happens here.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from typing import Callable, Dict, Iterator, Mapping, Optional, Set, Tuple

import numpy as np

from .. import _core
from .._core import Tensor
from ..device import check_device, is_device_name
from ..grad_mode import no_grad
from .parameter import Parameter

__all__ = ["Module"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict(strict=False)`` returns (the same fields as torch's)."""

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _check_name(kind: str, name) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got "{name}"')


def _as_dtype(dtype):
    return dtype if isinstance(dtype, _core.dtype) else _core._dtype_from(dtype)


def _indent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    return "\n".join([lines[0]] + [" " * spaces + line for line in lines[1:]])


class Module:
    """Base class for all layers and models: subclass it, assign layers and Parameters as
    attributes in ``__init__`` (after ``super().__init__()``) and define ``forward``."""

    training: bool

    def __init__(self) -> None:
        # object.__setattr__ because our own __setattr__ needs these registries to exist.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---- registration ----------------------------------------------------------------

    def _registries(self) -> Tuple[dict, dict, dict]:
        try:
            return self.__dict__["_parameters"], self.__dict__["_buffers"], self.__dict__["_modules"]
        except KeyError:
            raise AttributeError(f"cannot assign to {type(self).__name__} before Module.__init__() call; "
                                 "call super().__init__() first in your __init__") from None

    def register_parameter(self, name: str, param: Optional[Parameter]) -> None:
        """Adds ``param`` (a Parameter, or None for an absent one such as a disabled bias) as ``name``."""
        params, _, _ = self._registries()
        _check_name("parameter", name)
        if hasattr(self, name) and name not in params:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(gdcore.nn.Parameter or None required); wrap the tensor in nn.Parameter(...)")
        params[name] = param

    def register_buffer(self, name: str, tensor: Optional[Tensor], persistent: bool = True) -> None:
        """Adds a tensor that is state but not a parameter (kept in ``state_dict`` when persistent)."""
        _, buffers, _ = self._registries()
        _check_name("buffer", name)
        if hasattr(self, name) and name not in buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(gdcore.Tensor or None required)")
        buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Optional["Module"]) -> None:
        """Adds a submodule as ``name`` (what attribute assignment does)."""
        _, _, modules = self._registries()
        _check_name("module", name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if hasattr(self, name) and name not in modules:
            raise KeyError(f"attribute '{name}' already exists")
        modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                self._registries()  # raises the "call super().__init__()" error
            self._forget(name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(gdcore.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                self._registries()
            self._forget(name)
            self._modules[name] = value
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(gdcore.nn.Module or None expected)")
            self._modules[name] = None
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(gdcore.Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        """Drops `name` from every registry and the instance dict (before it is re-registered)."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name: str):
        # Only called when normal lookup fails: look in the registries.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    # ---- traversal ---------------------------------------------------------------------

    def named_modules(self, memo: Optional[Set[int]] = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[Tuple[str, "Module"]]:
        """(name, module) for this module and every descendant, depth first ('' names self)."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self) -> Iterator["Module"]:
        """This module and every descendant."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[Tuple[str, "Module"]]:
        """(name, module) for the direct submodules."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator["Module"]:
        """The direct submodules."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[Tuple[str, Parameter]]:
        """('conv1.weight', Parameter) pairs; a parameter shared by two layers appears once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter of this module (and, with recurse, of its descendants), each once."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[Tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> "Module":
        """The submodule at a dotted path such as 'features.0' ('' is self)."""
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules or module._modules[part] is None:
                raise AttributeError(f"{type(module).__name__} has no submodule '{part}' (looking up '{target}')")
            module = module._modules[part]
        return module

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        """Calls ``fn`` on every submodule (children first) and then on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients -----------------------------------------------------------

    def train(self, mode: bool = True) -> "Module":
        """Sets ``training`` on this module and its descendants; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        """``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Sets requires_grad on every parameter (e.g. to freeze a layer); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Resets every parameter's ``.grad``: to None (default, as torch 2), or to zeros in place."""
        for p in self.parameters():
            if set_to_none:  # without reading .grad first: a step captured by gdcore.compile clears every one
                p.grad = None
                continue
            g = p.grad
            if g is None:
                continue
            if g.grad_fn is not None:
                g.detach_()
            else:
                g.requires_grad_(False)
            g.zero_()

    # ---- state ---------------------------------------------------------------------------

    def state_dict(self, destination: Optional[Dict[str, Tensor]] = None, prefix: str = "",
                   keep_vars: bool = False) -> Dict[str, Tensor]:
        """An ordered dict from dotted names ('fc1.weight') to tensors: every parameter and
        persistent buffer. Values share memory with the module (detached unless keep_vars)."""
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def load_state_dict(self, state_dict: Mapping[str, Tensor], strict: bool = True) -> _IncompatibleKeys:
        """Copies values from ``state_dict`` into this module's parameters and buffers.

        Checks everything before copying anything: with ``strict=True`` missing and unexpected
        keys are errors; a shape mismatch or a value that is not a tensor is always an error.
        All problems are reported together in one RuntimeError and the module is left unchanged.
        Returns (missing_keys, unexpected_keys).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}")
        for name, module in list(self.named_modules()):  # lazy layers take their shapes from the checkpoint
            materialize = getattr(type(module), "_materialize_from_state_dict", None)
            if materialize is not None:
                materialize(module, state_dict, name + "." if name else "")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems, copies = [], []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            if isinstance(value, np.ndarray):
                value = _core.from_numpy(value)
            if not isinstance(value, Tensor):
                problems.append(f'While copying the parameter named "{key}", expected a gdcore.Tensor or numpy '
                                f"array from the checkpoint but received {type(value).__name__}")
                continue
            if tuple(value.shape) != tuple(target.shape):
                problems.append(f"size mismatch for {key}: copying a param with shape {tuple(value.shape)} from "
                                f"checkpoint, the shape in current model is {tuple(target.shape)}.")
                continue
            copies.append((target, value))
        if strict:
            key_problems = []
            if missing:
                key_problems.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
            if unexpected:
                key_problems.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
            problems = key_problems + problems
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(problems))
        with no_grad():
            for target, value in copies:
                target.copy_(value)
        return _IncompatibleKeys(missing, unexpected)

    # ---- dtype ---------------------------------------------------------------------------

    def _apply_to_tensors(self, convert: Callable[[Tensor], Tensor]) -> "Module":
        """Replaces every float parameter's data (and grad) and every float buffer by convert(t).
        Parameters keep their identity, so optimizers built before still see them."""
        for module in self.modules():
            for p in module._parameters.values():
                if p is None or not p.is_floating_point():
                    continue
                grad = p.grad
                with no_grad():
                    p.data = convert(p.data)
                    p.grad = None if grad is None else convert(grad)
            for name, b in module._buffers.items():
                if b is not None and b.is_floating_point():
                    module._buffers[name] = convert(b)
        return self

    def to(self, *args, **kwargs) -> "Module":
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)`` or ``to(device=..., dtype=...,
        non_blocking=...)``, as torch: float parameters and buffers are converted in place (they keep their
        identity, so an optimizer built before still sees them). The device must be the CPU, where
        everything already is. Returns self."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, bool):
                continue  # non_blocking, positionally
            if isinstance(arg, Tensor):
                arg = arg.dtype if arg.is_floating_point() else None  # to(tensor): its dtype when it is a float
                if arg is None:
                    continue
            if is_device_name(arg) or (isinstance(arg, int) and device is None):
                device = arg
            elif dtype is None:
                dtype = arg
            else:
                raise TypeError(f"to() got more than one dtype: {dtype!r} and {arg!r}")
        if device is not None:
            check_device(device, "Module.to()")
        if dtype is None:
            return self
        dtype = _as_dtype(dtype)
        if not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, got {dtype!r}")
        return self._apply_to_tensors(lambda t: t.to(dtype))

    def cpu(self) -> "Module":
        """Returns self: everything already lives on the CPU."""
        return self

    def cuda(self, device=None) -> "Module":
        """Refused: gdcore runs on the CPU only."""
        raise RuntimeError("Module.cuda(): gdcore runs on the CPU only, there is no CUDA device; use .to('cpu') "
                           "or leave the module where it is")

    def float(self) -> "Module":
        """Converts float parameters and buffers to float32."""
        return self.to(_core.dtype.float32)

    def double(self) -> "Module":
        """Converts float parameters and buffers to float64."""
        return self.to(_core.dtype.float64)

    # ---- repr ----------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (override in layers)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _indent(repr(module), 2))
        if not self._modules:
            return f"{self._get_name()}({extra})"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"
