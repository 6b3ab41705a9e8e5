"""numpy's keyword spellings that torch accepts: ``axis=`` for ``dim=`` and ``keepdims=`` for
``keepdim=`` (``x.sum(axis=1)``, ``gdcore.argmax(x, axis=1, keepdims=True)``).

torch's argument parser accepts them on every native function; here one small wrapper,
applied by name at import time (``install()``, the last thing ``gdcore/__init__`` does),
gives them to every reduction-like function and Tensor method in ``NAMES`` that exists,
whoever defined it. A call without keywords goes straight through (one extra Python call:
see the timings in the README); only a call with keywords is looked at.
"""
from __future__ import annotations

import functools

__all__ = ["NAMES", "install", "with_numpy_spellings"]

# Functions and methods taking ``dim`` (and most ``keepdim``). Names that do not exist (yet) are skipped.
NAMES = ("sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std", "var_mean", "std_mean",
         "prod", "logsumexp", "norm", "any", "all", "count_nonzero", "cumsum", "cumprod", "softmax", "log_softmax",
         "median", "nansum", "nanmean", "aminmax")

_ALIASES = (("axis", "dim"), ("keepdims", "keepdim"))


def _rename(name: str, kwargs: dict) -> None:
    for numpy_name, torch_name in _ALIASES:
        if numpy_name in kwargs:
            if torch_name in kwargs:
                raise TypeError(f"{name}() got both {torch_name}= and its numpy spelling {numpy_name}=; pass one")
            kwargs[torch_name] = kwargs.pop(numpy_name)


def with_numpy_spellings(fn, name: str):
    """``fn`` accepting ``axis=``/``keepdims=`` as ``dim=``/``keepdim=`` (``fn`` itself if it already does)."""
    if getattr(fn, "_numpy_spellings", False):
        return fn

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if kwargs and ("axis" in kwargs or "keepdims" in kwargs):
            _rename(name, kwargs)
        return fn(*args, **kwargs)

    wrapper._numpy_spellings = True
    return wrapper


def install(namespaces) -> None:
    """Wraps every name of NAMES found in each of ``namespaces`` (modules or classes), in place."""
    for ns in namespaces:
        for name in NAMES:
            fn = getattr(ns, name, None)
            if fn is None or not callable(fn):
                continue
            setattr(ns, name, with_numpy_spellings(fn, name))
