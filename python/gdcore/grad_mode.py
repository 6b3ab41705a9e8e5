"""Grad-mode switches: ``no_grad()``, ``enable_grad()``, ``set_grad_enabled(mode)`` and
``inference_mode(mode)``, each usable as a context manager or a decorator. The mode itself lives
in C++ and is per thread."""
from __future__ import annotations

import functools
import threading

from . import _core

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "is_inference_mode_enabled"]

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


# torch's inference mode also skips version counters and view tracking; gdcore has nothing to skip
# beyond the tape, so inference_mode(True) is no_grad plus the flag that is_inference_mode_enabled reads.
_inference = threading.local()


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` (in this thread)."""
    return getattr(_inference, "enabled", False)


class inference_mode(_GradModeContext):
    """``with gdcore.inference_mode():`` records no history, as no_grad; ``inference_mode(False)``
    leaves grad mode as it is. Also a decorator, with or without the call (``@gdcore.inference_mode``)."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):  # the bare decorator
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True):
        if not isinstance(mode, bool):
            raise TypeError(f"inference_mode: mode must be True or False, got {mode!r}")
        self.mode = mode

    def __enter__(self):
        self._prev = _core.is_grad_enabled()
        self._prev_inference = is_inference_mode_enabled()
        if self.mode:
            _core._set_grad_enabled(False)
        _inference.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _core._set_grad_enabled(self._prev)
        _inference.enabled = self._prev_inference
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)
        return wrapper
