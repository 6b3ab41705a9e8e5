"""What the benchmarks ran on: CPU, cores, load, gdcore's SIMD path and the versions of everything."""
from __future__ import annotations

import datetime
import os
import platform
import shutil
import subprocess
from typing import Dict


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def compiler_version() -> str:
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return "none"
    out = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else cc


def machine_info(versions: Dict[str, str]) -> Dict[str, str]:
    """A flat dict for the report header and the JSON file."""
    import gdcore
    from gdcore import _core

    dispatch = hasattr(_core, "simd_path")  # builds before the SIMD dispatch have none
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "load average at start": load_average(),
        "simd path": _core.simd_path() if dispatch else "none (this build has no SIMD dispatch)",
        "simd paths supported": ", ".join(_core.simd_paths()) if dispatch else "-",
        "kernel threads": str(_core._kernel_threads()) if dispatch else "1",
        "python": platform.python_version(),
        "gdcore": gdcore.__version__,
        "cc": compiler_version(),
    }
    info.update(versions)
    return info
