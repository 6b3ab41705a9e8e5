"""``gdcore.cuda``: torch.cuda's answers on a machine without CUDA, since gdcore runs on the CPU.

``is_available()`` is False and ``device_count()`` 0, so the usual
``'cuda' if torch.cuda.is_available() else 'cpu'`` picks the CPU. The seeding calls are
silently ignored, as torch documents for a machine without CUDA; the calls that need a GPU
raise a RuntimeError that says gdcore runs on the CPU.
"""
from __future__ import annotations

__all__ = ["is_available", "device_count", "is_initialized", "manual_seed", "manual_seed_all", "current_device",
           "get_device_name", "synchronize", "empty_cache"]


def is_available() -> bool:
    """False: gdcore has no CUDA support."""
    return False


def device_count() -> int:
    """0: no CUDA devices."""
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Ignored without CUDA, as in torch (seed the CPU generator with gdcore.manual_seed)."""


def manual_seed_all(seed: int) -> None:
    """Ignored without CUDA, as in torch."""


def empty_cache() -> None:
    """Nothing to free without CUDA (torch does nothing either)."""


def _no_cuda(name: str):
    raise RuntimeError(f"gdcore.cuda.{name}(): gdcore runs on the CPU only, there is no CUDA device "
                       "(gdcore.cuda.is_available() is False)")


def current_device() -> int:
    _no_cuda("current_device")


def get_device_name(device=None) -> str:
    _no_cuda("get_device_name")


def synchronize(device=None) -> None:
    _no_cuda("synchronize")
