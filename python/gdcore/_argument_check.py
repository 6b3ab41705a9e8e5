"""Clear wrong-type messages for gdcore's public Python functions, the Python half of what
cpp/bindings/argument_errors.cpp does for the bound C++ ones.

``install(namespace)`` wraps every public function of a module namespace (and ``install_class`` every
public method of a class) in a thin layer built from its signature and annotations. A call that succeeds
pays for one extra Python frame and nothing else; a call that fails with TypeError, ValueError or
AttributeError (and is not already a TypeError that names the function) has its arguments compared
with the annotations; when one does not match, the error becomes a TypeError that names the function,
the argument, the wanted type and the value: ``gdcore.zeros_like(): argument 't' must be Tensor, got
str 'a'`` (the original error is its __cause__). Other TypeErrors get the function's name in front;
everything else passes unchanged. New public functions are covered as soon as they are defined in a
walked namespace.
"""
from __future__ import annotations

import collections.abc
import functools
import inspect
import numbers
import types
import typing
from typing import Any, Callable, Optional

import numpy as np

from ._core import Tensor

__all__ = ["install", "install_class", "explain_argument_errors"]

_UNKNOWN = object()


def _hints(f: Callable) -> dict:
    try:
        return typing.get_type_hints(f)
    except Exception:  # noqa: BLE001 - an unresolvable annotation: resolve the others one by one
        hints: dict = {}
        for name, text in getattr(f, "__annotations__", {}).items():
            try:
                hints[name] = eval(text, f.__globals__) if isinstance(text, str) else text  # noqa: S307
            except Exception:  # noqa: BLE001
                pass
        return hints


def _matches(value: Any, hint: Any) -> bool:
    """Whether ``value`` is acceptable for the annotation ``hint`` (True when the hint is not understood)."""
    if hint is Any or hint is object:
        return True
    if hint is None or hint is type(None):
        return value is None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return any(_matches(value, a) for a in args)
    if hint is float:
        return isinstance(value, (numbers.Real, Tensor))
    if hint is int:
        return isinstance(value, (numbers.Integral, np.integer)) or (
            isinstance(value, Tensor) and not value.is_floating_point())
    if hint is bool:
        return isinstance(value, (bool, np.bool_, numbers.Integral))
    if hint is str:
        return isinstance(value, str)
    if origin is collections.abc.Callable or hint is collections.abc.Callable or hint is Callable:
        return callable(value)
    container = origin if origin is not None else hint
    if container in (list, tuple, collections.abc.Sequence, collections.abc.Iterable):
        if isinstance(value, (str, bytes, dict)) or not isinstance(value, container):
            return False
        inner = [a for a in args if a is not Ellipsis]
        return len(inner) != 1 or all(_matches(item, inner[0]) for item in value)
    if container in (dict, collections.abc.Mapping):
        return isinstance(value, container)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def _readable(hint: Any) -> str:
    if hint is None or hint is type(None):
        return "None"
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return " or ".join(dict.fromkeys(_readable(a) for a in args))
    if origin in (list, tuple, collections.abc.Sequence, collections.abc.Iterable):
        inner = [a for a in args if a is not Ellipsis]
        return f"a sequence of {_readable(inner[0])}" if len(inner) == 1 else "a sequence"
    if origin is collections.abc.Callable or hint is collections.abc.Callable:
        return "a callable"
    return getattr(hint, "__name__", str(hint))


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _mismatch(signature: inspect.Signature, hints: dict, args: tuple, kwargs: dict) -> Optional[str]:
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return None  # a wrong number of arguments: Python's own message already says which
    for name, value in bound.arguments.items():
        parameter = signature.parameters[name]
        if name == "self" or name not in hints:
            continue
        values = value if parameter.kind is parameter.VAR_POSITIONAL else (value,)
        if parameter.kind is parameter.VAR_KEYWORD:
            continue
        for item in values:
            if not _matches(item, hints[name]):
                return f"argument '{name}' must be {_readable(hints[name])}, got {_describe(item)}"
    return None


def explain_argument_errors(f: Callable, qualname: str) -> Callable:
    """``f`` wrapped so that a failing call with an argument of the wrong type says which (see the module doc)."""
    if getattr(f, "__gdcore_argument_check__", False):
        return f
    try:
        signature = inspect.signature(f)
    except (TypeError, ValueError):
        return f
    hints = _hints(f)
    is_method = next(iter(signature.parameters), None) == "self"

    @functools.wraps(f)
    def checked(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except (TypeError, ValueError, AttributeError) as err:
            names = [qualname.rsplit(".", 1)[-1]]
            if is_method and args:
                names.append(type(args[0]).__name__)  # optimizers say "SGD: ..." in their own messages
            if isinstance(err, TypeError) and any(name in str(err) for name in names):
                raise  # the function's own message, which names it
            problem = _mismatch(signature, hints, args, kwargs)
            if problem is not None:
                raise TypeError(f"{qualname}(): {problem}") from err
            if type(err) is TypeError:  # say whose error it is
                raise TypeError(f"{qualname}(): {err}") from err
            raise

    checked.__gdcore_argument_check__ = True
    return checked


def install(namespace: dict, prefix: str) -> None:
    """Wrap every public Python function defined in a gdcore module and visible in ``namespace``."""
    for name, value in list(namespace.items()):
        if not name.startswith("_") and isinstance(value, types.FunctionType) and \
                value.__module__.startswith("gdcore"):
            namespace[name] = explain_argument_errors(value, f"{prefix}{name}")


def install_class(cls: type) -> None:
    """Wrap ``__init__`` and the public methods that ``cls`` defines itself."""
    for name, value in list(vars(cls).items()):
        if (name == "__init__" or not name.startswith("_")) and isinstance(value, types.FunctionType):
            setattr(cls, name, explain_argument_errors(value, cls.__name__ if name == "__init__"
                                                       else f"{cls.__name__}.{name}"))
