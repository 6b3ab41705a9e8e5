"""Grad-mode switches: ``no_grad()``, ``enable_grad()`` and ``set_grad_enabled(mode)``,
each usable as a context manager or a decorator. The mode itself lives in C++ and is per thread."""
from __future__ import annotations

import functools

from . import _core

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]

is_grad_enabled = _core.is_grad_enabled


class _GradModeContext:
    _mode: bool

    def __enter__(self):
        self._prev = _core.is_grad_enabled()
        _core._set_grad_enabled(self._mode)
        return self

    def __exit__(self, *exc):
        _core._set_grad_enabled(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _fresh(self):
                return fn(*args, **kwargs)
        return wrapper


def _fresh(ctx: _GradModeContext) -> _GradModeContext:
    new = ctx.__class__.__new__(ctx.__class__)
    new._mode = ctx._mode
    return new


class no_grad(_GradModeContext):
    """Ops inside record no history (``with gdcore.no_grad(): ...`` or ``@gdcore.no_grad()``)."""

    def __init__(self):
        self._mode = False


class enable_grad(_GradModeContext):
    """Turns recording back on inside a ``no_grad`` block."""

    def __init__(self):
        self._mode = True


class set_grad_enabled(_GradModeContext):
    """Sets grad mode to ``mode``; as a plain call it takes effect at once (as in torch)."""

    def __init__(self, mode: bool):
        self._mode = bool(mode)
        self._prev = _core.is_grad_enabled()
        _core._set_grad_enabled(self._mode)

    def __enter__(self):
        return self
