"""gdcore.set_num_threads / get_num_threads, as torch's: how many threads one large operation may use.

gdcore has two pools: its own kernel threads (the SIMD loops of optimizer updates, losses and large
elementwise calls split a call over them) and OpenBLAS's (matrix products). set_num_threads sets both, so
that processes running side by side (DataLoader workers, which set 1 as torch's do; MPI ranks) do not
start more threads than there are cores and wait on each other.
"""
from __future__ import annotations

from . import _core

__all__ = ["set_num_threads", "get_num_threads"]

_KERNEL_THREADS_MAX = 64  # the most the kernel pool takes (cpp/src/kernels/simd/parallel.cpp)


def set_num_threads(n: int) -> None:
    """Let one operation use up to ``n`` threads: gdcore's kernel pool (at most 64) and OpenBLAS's."""
    if isinstance(n, bool) or not hasattr(n, "__index__"):
        raise TypeError(f"set_num_threads(): argument 'n' must be an int, got {type(n).__name__} {n!r}")
    n = n.__index__()
    if n < 1:
        raise ValueError(f"set_num_threads(): the number of threads must be at least 1, got {n}")
    _core._set_kernel_threads(min(n, _KERNEL_THREADS_MAX))
    _core._set_blas_threads(n)


def get_num_threads() -> int:
    """The threads one gdcore kernel call is split over (as torch.get_num_threads)."""
    return _core._kernel_threads()
