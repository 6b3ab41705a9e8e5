"""Tensor methods made from Python functions (pointwise.py, sampling.py, binning.py,
linalg_solvers.py install them): the method has the function's signature with ``self`` first
(so help() and argument checks read it), and a TypeError or ValueError that does not name the
method gets ``Tensor.<name>(): `` in front, so the message says which call failed.
"""
from __future__ import annotations

import inspect
import re
from typing import Callable, Optional

__all__ = ["tensor_method"]


def _signature(fn: Callable) -> Optional[inspect.Signature]:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):  # a pybind11 function: read "name(a: T, b: T = ...) -> R" from its doc
        first = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        match = re.match(r"[\w.]*\(([^()]*)\)\s*->", first)
        if not match:
            return None
        names = [p.split(":")[0].split("=")[0].strip() for p in match.group(1).split(",") if p.strip()]
        return inspect.Signature([inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names])


def tensor_method(name: str, call: Callable, like: Optional[Callable] = None, doc: Optional[str] = None) -> Callable:
    """``call(self, *args, **kwargs)`` as the method ``Tensor.<name>``, with the signature of ``like``
    (default: ``call``) whose first parameter becomes ``self``."""
    def method(self, *args, **kwargs):
        try:
            return call(self, *args, **kwargs)
        except (TypeError, ValueError) as err:
            if name in str(err):
                raise
            try:
                renamed = type(err)(f"Tensor.{name}(): {err}")
            except Exception:  # noqa: BLE001 - an exception type with another constructor: keep it as it is
                raise err from None
            raise renamed from err
    method.__name__, method.__qualname__ = name, f"Tensor.{name}"
    method.__doc__ = doc if doc is not None else getattr(like or call, "__doc__", None)
    sig = _signature(like or call)
    if sig is not None:
        params = list(sig.parameters.values())
        if params:
            method.__signature__ = sig.replace(parameters=[params[0].replace(name="self")] + params[1:])
    return method
