"""``gdcore.backends.cudnn``: not available; its flags are plain settable attributes, as torch's
are on a machine without cuDNN, so ``cudnn.deterministic = True`` in a seeding helper runs."""
from __future__ import annotations

__all__ = ["is_available", "version", "enabled", "benchmark", "deterministic"]

enabled = True
benchmark = False
deterministic = False


def is_available() -> bool:
    return False


def version():
    """None, as torch answers without cuDNN."""
    return None
