"""Target 5: how much memory one recorded op costs, measured (python -m benchmarks.tape_memory [N]).

Records a chain of N multiplications ``y = y * w`` (a binary op whose node saves both
inputs) and reads the C++ heap in use before and after from glibc's mallinfo2, which counts
live bytes only (freed blocks the allocator keeps do not show, unlike in the resident set
size). Python objects live in Python's own arenas and are not counted, so the numbers are
the core's: the eager graph (each node plus its output tensor, which the next node keeps
alive as a saved input), the output tensors alone (kept in a list under no_grad), and a
``gdcore.compile`` program of the same chain after capture and after a replay (its slots'
tensors are released after each replay, so this is the tape alone). Run on 2-d (4, 4) and
0-d float32 operands. Linux with glibc only; elsewhere it says so and exits.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from typing import Callable, Dict

import gdcore


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                     "fsmblks", "uordblks", "fordblks", "keepcost")]


def heap_in_use() -> Callable[[], int]:
    """A function returning the bytes malloc has handed out and not taken back (glibc)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    mallinfo2 = libc.mallinfo2  # AttributeError without glibc >= 2.33
    mallinfo2.restype = _MallInfo2

    def used() -> int:
        gc.collect()
        info = mallinfo2()
        return info.uordblks + info.hblkhd
    return used


def per_op(n: int, shape: tuple, used: Callable[[], int]) -> Dict[str, float]:
    """Bytes of C++ heap per recorded op for a chain of n `y = y * w` on tensors of `shape`."""
    x = gdcore.randn(*shape, requires_grad=True)
    w = gdcore.randn(*shape)
    out = {}

    before = used()
    y = x
    for _ in range(n):
        y = y * w
    out["eager graph: node + output tensor"] = (used() - before) / n
    del y

    kept = [None] * n  # the list's own memory is not the tensors'
    before = used()
    with gdcore.no_grad():
        for i in range(n):
            kept[i] = x * w
    out["output tensor alone"] = (used() - before) / n
    del kept
    out["eager node alone (difference)"] = out["eager graph: node + output tensor"] - out["output tensor alone"]

    def step(a):
        z = a
        for _ in range(n):
            z = z * w
        return z.sum()

    before = used()
    compiled = gdcore.compile(step)
    a = x.detach()
    compiled(a)
    out["compile program, after capture"] = (used() - before) / n
    compiled(a)
    out["compile program, after a replay"] = (used() - before) / n
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    n = int(argv[0]) if argv else 100_000
    try:
        used = heap_in_use()
    except (OSError, AttributeError) as e:
        print(f"benchmarks.tape_memory needs glibc's mallinfo2 (Linux, glibc >= 2.33): {e}", file=sys.stderr)
        return 2
    print(f"C++ heap bytes per recorded op, chain of {n:,} `y = y * w` (float32; glibc mallinfo2)")
    for shape in ((4, 4), ()):
        for what, size in per_op(n, shape, used).items():
            print(f"  {str(shape):<7} {what:<40} {size:7.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
