"""``gdcore.accelerator``: torch.accelerator's answers for a CPU-only library (no accelerator)."""
from __future__ import annotations

__all__ = ["is_available", "current_accelerator", "device_count"]


def is_available() -> bool:
    """False: gdcore runs on the CPU, which torch does not count as an accelerator."""
    return False


def current_accelerator(check_available: bool = False):
    """None: there is no accelerator."""
    return None


def device_count() -> int:
    return 0
