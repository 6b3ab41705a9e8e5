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
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            # A fresh context per call, so that nested and concurrent calls each restore their own state.
            with _Switch(mode):
                return fn(*args, **kwargs)
        return wrapper


class _Switch(_GradModeContext):
    """Sets grad mode to ``mode`` on entry and restores the previous mode on exit."""

    def __init__(self, mode: bool):
        self._mode = mode


class _NoParamContext(_GradModeContext):
    """Also usable as a bare decorator (``@gdcore.no_grad``), as in torch."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamContext):
    """Ops inside record no history (``with gdcore.no_grad(): ...``, ``@gdcore.no_grad()`` or ``@gdcore.no_grad``)."""

    def __init__(self, orig_func=None):
        self._mode = False


class enable_grad(_NoParamContext):
    """Turns recording back on inside a ``no_grad`` block."""

    def __init__(self, orig_func=None):
        self._mode = True


class set_grad_enabled(_GradModeContext):
    """Sets grad mode to ``mode``; as a plain call it takes effect at once (as in torch)."""

    def __init__(self, mode: bool):
        if not isinstance(mode, (bool, int)) and type(mode).__name__ != "bool_":
            raise TypeError(f"set_grad_enabled: mode must be True or False, got {mode!r}")
        self._mode = bool(mode)
        self._prev = _core.is_grad_enabled()
        _core._set_grad_enabled(self._mode)

    def __enter__(self):
        return self

    def __call__(self, fn):
        # As a decorator it must not change the mode at decoration time (as in torch).
        _core._set_grad_enabled(self._prev)
        return super().__call__(fn)
