"""--emulate-avx2: every library on its AVX2 code, so an AVX-512 machine stands in for an AVX2 one.

Issue 14's targets must hold on AVX2 machines as well as AVX-512 ones. Putting only gdcore on its
AVX2 path (GDCORE_SIMD=avx2) would race it against anchors still on AVX-512, which is no AVX2
machine; so the switch moves everything: gdcore's kernels, the OpenBLAS of gdcore and numpy
(OPENBLAS_CORETYPE=Haswell), torch's own kernels (ATEN_CPU_CAPABILITY=avx2), its oneDNN
convolutions (ONEDNN_MAX_CPU_ISA) and its MKL products (MKL_ENABLE_INSTRUCTIONS), and the C loop
(compiled with -mno-avx512f). All of them read their variable once, when they load, so `apply`
must run before numpy, gdcore or torch is imported; the memory children inherit the environment.
`in_effect` reads back what each library really chose, for the report's header: a variable a
library ignored would otherwise mislabel the whole run.
"""
from __future__ import annotations

import ctypes
import os
import sys
from typing import Dict, List, Sequence

FLAG = "--emulate-avx2"

AVX2_ENVIRONMENT: Dict[str, str] = {
    "GDCORE_SIMD": "avx2",
    "OPENBLAS_CORETYPE": "Haswell",
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
}

# The C loop's extra flag: -march=native keeps the machine's tuning, -mno-avx512f turns off every
# AVX-512 subset (they all depend on AVX-512F), leaving AVX2 + FMA code.
C_FLAGS = ["-mno-avx512f"]

_LOADED_TOO_EARLY = ("numpy", "gdcore._core", "torch")


def apply(argv: Sequence[str]) -> bool:
    """Sets the AVX2 environment when `argv` holds --emulate-avx2; returns whether it did.
    Raises RuntimeError when a library that reads it is already loaded (it would be ignored)."""
    if FLAG not in argv:
        return False
    early = [m for m in _LOADED_TOO_EARLY if m in sys.modules]
    if early:
        raise RuntimeError(f"{FLAG}: {', '.join(early)} was imported before the AVX2 environment was set; "
                           "call benchmarks.emulation.apply() before importing it")
    os.environ.update(AVX2_ENVIRONMENT)
    return True


def _openblas_cores() -> List[str]:
    """'library: core' for every OpenBLAS loaded in this process (gdcore's scipy-openblas32,
    numpy's own copy), asked through the library's get_corename."""
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.split()[-1].lower()})
    except OSError:
        return []
    out = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in ("openblas_get_corename", "scipy_openblas_get_corename", "scipy_openblas_get_corename64_",
                       "openblas_get_corename64_"):
            fn = getattr(lib, symbol, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                out.append(f"{os.path.basename(path)}: {fn().decode()}")
                break
    return out


def in_effect(torch=None) -> Dict[str, str]:
    """The code paths the libraries chose, for the header and the JSON."""
    info = {"openblas cores": "; ".join(_openblas_cores()) or "unknown"}
    if torch is not None:
        info["torch cpu capability"] = torch.backends.cpu.get_cpu_capability()
        isa = os.environ.get("ONEDNN_MAX_CPU_ISA")
        if isa:
            info["torch oneDNN isa cap"] = isa
    return info


def check(torch=None) -> List[str]:
    """What did not take the AVX2 path under --emulate-avx2 (empty when everything did)."""
    from gdcore import _core

    problems = []
    if _core.simd_path() != "avx2":
        problems.append(f"gdcore runs {_core.simd_path()}")
    for entry in _openblas_cores():
        if not entry.endswith("Haswell"):
            problems.append(f"OpenBLAS {entry}")
    if torch is not None and torch.backends.cpu.get_cpu_capability() != "AVX2":
        problems.append(f"torch's CPU capability is {torch.backends.cpu.get_cpu_capability()}")
    return problems
