"""Builds c_reference.c with the machine's C compiler and loads it with ctypes.

The library is compiled once per run into a temporary folder with
``cc -O3 -march=native -fopenmp -fno-math-errno -shared -fPIC``: the plain C loop at its
best on this machine, on two threads (with extra flags from the caller: -mno-avx512f for
--emulate-avx2). When no compiler is found (or it fails) the kernel rows get a note instead of
a C reference.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import tempfile
from typing import Optional, Sequence, Tuple

import numpy as np

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "c_reference.c")
FLAGS = ["-O3", "-march=native", "-fopenmp", "-fno-math-errno", "-shared", "-fPIC"]
LIBS = ["-lm"]  # libm with libmvec: the vector expf of ref_cross_entropy


def build(extra_flags: Sequence[str] = (), threads: int = 2) -> Tuple[Optional[ctypes.CDLL], str]:
    """(library, description) or (None, why not). `threads`: the OpenMP threads of the loops
    (the runner passes gdcore's kernel threads, so both split the work alike)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return None, "no C compiler (cc) found: the C reference rows are left out"
    folder = tempfile.mkdtemp(prefix="gdcore_bench_")
    out = os.path.join(folder, "libreference.so")
    command = [cc, *FLAGS, *extra_flags, f"-DTHREADS={threads}", "-o", out, SOURCE, *LIBS]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return None, f"compiling the C reference failed: {done.stderr.strip()[:300]}"
    lib = ctypes.CDLL(out)
    f32p, i64, f32 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_float
    lib.ref_sgd.argtypes = [f32p, f32p, i64, f32]
    lib.ref_momentum.argtypes = [f32p, f32p, f32p, i64, f32, f32]
    lib.ref_adam.argtypes = [f32p, f32p, f32p, f32p, i64, f32, f32, f32, f32, f32]
    lib.ref_mse.argtypes = [f32p, f32p, f32p, i64]
    lib.ref_mse.restype = ctypes.c_double
    lib.ref_cross_entropy.argtypes = [f32p, ctypes.c_void_p, f32p, i64, i64]
    lib.ref_cross_entropy.restype = ctypes.c_double
    f64 = ctypes.c_double
    lib.ref_per_sample_sgd.argtypes = [f32p, f32p, f32p, i64, i64, f32p, f32p, f64, f32p]
    return lib, (f"{os.path.basename(cc)} {' '.join([*FLAGS[:4], *extra_flags])}, {threads} OpenMP "
                 f"thread{'s' if threads > 1 else ''}")


def address(a: np.ndarray) -> int:
    """The data pointer of a contiguous float32 (or int64) array, for the ctypes calls."""
    assert a.dtype in (np.float32, np.int64) and a.flags.c_contiguous
    return a.ctypes.data
