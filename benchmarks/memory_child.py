"""Peak memory of one training workload for one implementation, in a fresh process.

python -m benchmarks.memory_child WORKLOAD IMPL [--steps N] [--quick] [--torch-threads N] [--simd P] [--threads N]

Run by the benchmark runner (benchmarks/memory.py) once per (workload, implementation), and
usable by hand. The process imports only the library under test (gdcore, numpy, torch,
scikit-learn or micrograd; numpy too when the workload's module needs it), reads its
resident set size, then builds the workload with the runner's own definitions
(small_models.py, networks.py), calls the implementation's setup() and runs N steps. It
prints one JSON object: the resident set size after the imports, the peak (the kernel's
high-water mark, VmHWM) and their difference, and the libraries that ended up loaded.

The workload modules import gdcore at their top. The child imports them with a stand-in
module in gdcore's place, so in a child for another implementation gdcore is loaded only if
building the workload really uses it (the airfoil workloads read their data file through
gdcore.data); ``libraries`` in the output says when that happened.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import json
import sys
import types
from typing import Dict, List, Optional, Tuple

# The training workloads a child can build: key -> (module of this package, factory). A
# factory takes the anchors (and `quick` when it has that parameter) and returns the
# workload or a list of workloads holding it (as benchmarks/__main__.py calls them).
TRAINING: Dict[str, Tuple[str, str]] = {
    "train.linear_1_1": ("small_models", "linear_1_1"),
    "train.airfoil_scratch": ("small_models", "airfoil"),
    "train.airfoil_nn": ("small_models", "airfoil"),
    "train.per_sample_sgd": ("small_models", "per_sample_sgd"),
    "train.lenet_b64": ("networks", "lenet_workloads"),
    "train.lenet_b1": ("networks", "lenet_workloads"),
    "train.lenet_d2l_b256": ("networks", "lenet_workloads"),
    "train.value_mlp": ("networks", "value_mlp"),
    "train.classify_mlp": ("classification", "mlp_step"),
}

# What "importing the library" means for each implementation: these modules are imported
# before the baseline is read (scikit-learn's estimators live in sklearn.linear_model).
IMPORTS: Dict[str, List[str]] = {
    "gdcore": ["gdcore"],
    "gdcore.compile": ["gdcore"],
    "numpy": ["numpy"],
    "torch": ["torch"],
    "scikit-learn": ["sklearn.linear_model"],
    "micrograd": ["micrograd.engine"],
}
ANCHOR_MODULES = {"torch": "torch", "scikit-learn": "sklearn", "micrograd": "micrograd"}

# A library counts as loaded when this module is in sys.modules (for gdcore, its extension:
# the lazy stand-in alone costs nothing).
LOADED_MARKERS = {"gdcore": "gdcore._core", "gdcore.compile": "gdcore._core", "numpy": "numpy", "torch": "torch", "scikit-learn": "sklearn",
                  "micrograd": "micrograd"}


def resident_bytes() -> Tuple[int, int]:
    """(current, peak) resident set size of this process in bytes: VmRSS and VmHWM from
    /proc/self/status, or getrusage's ru_maxrss for both where /proc is missing."""
    try:
        with open("/proc/self/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak *= 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
        return peak, peak


def loaded_libraries() -> List[str]:
    return [name for name, marker in LOADED_MARKERS.items() if marker in sys.modules]


class OneAnchor:
    """The Anchors interface (get) holding only the implementation under test, so that building
    a workload imports no other anchor (benchmarks.anchors.Anchors imports every installed one)."""

    def __init__(self, name: Optional[str], module=None):
        self.name, self.module = name, module

    def get(self, name: str):
        return self.module if name == self.name else None


class ImportedOnUse(types.ModuleType):
    """Stands in for a module until one of its attributes is used; then imports the real one
    (with its package's full initialisation) and forwards to it."""

    def __getattr__(self, name: str):
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


def import_without_gdcore(module_name: str):
    """Imports benchmarks.<module_name> with a stand-in for its `import gdcore`: gdcore is then
    loaded only if building a workload uses it. The stand-in leaves sys.modules right after, so
    a later `import gdcore` or `from gdcore.data import ...` loads the real package normally."""
    stand_in = ImportedOnUse("gdcore")
    real = sys.modules.setdefault("gdcore", stand_in)
    try:
        return importlib.import_module(f"benchmarks.{module_name}")
    finally:
        if real is stand_in and sys.modules.get("gdcore") is stand_in:
            del sys.modules["gdcore"]


def build_workload(key: str, anchors, quick: bool):
    """The Workload `key` as the runner builds it (the factory named in TRAINING)."""
    module_name, factory_name = TRAINING[key]
    factory = getattr(import_without_gdcore(module_name), factory_name)
    made = factory(anchors, quick) if "quick" in inspect.signature(factory).parameters else factory(anchors)
    for workload in made if isinstance(made, list) else [made]:
        if workload.key == key:
            return workload
    raise RuntimeError(f"{module_name}.{factory_name} did not build {key}; fix the table TRAINING in "
                       "benchmarks/memory_child.py")


def measure(key: str, impl: str, steps: int, quick: bool = False, torch_threads: Optional[int] = None,
            simd: Optional[str] = None, kernel_threads: Optional[int] = None) -> dict:
    """Imports the library of `impl`, builds workload `key`, runs `steps` steps and returns the
    resident set sizes in bytes (call it in a fresh process: the peak is the process's)."""
    if key not in TRAINING:
        raise ValueError(f"unknown workload {key!r}; the memory child knows: {', '.join(TRAINING)}")
    if impl not in IMPORTS:
        raise ValueError(f"unknown implementation {impl!r}; expected one of: {', '.join(IMPORTS)}")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    modules = [importlib.import_module(name) for name in IMPORTS[impl]]
    if impl == "torch" and torch_threads:
        modules[0].set_num_threads(torch_threads)
    if impl.startswith("gdcore") and (simd or kernel_threads):
        from gdcore import _core
        if simd:
            _core._set_simd_path(simd)
        if kernel_threads:
            _core._set_kernel_threads(kernel_threads)
    anchor = importlib.import_module(ANCHOR_MODULES[impl]) if impl in ANCHOR_MODULES else None
    after_import, _ = resident_bytes()

    workload = build_workload(key, OneAnchor(impl if anchor else None, anchor), quick)
    if impl not in workload.impls:
        raise ValueError(f"workload {key} has no implementation {impl!r} here; it has: {', '.join(workload.impls)}"
                         + ("" if anchor or impl in ("gdcore", "numpy") else " (is the library installed?)"))
    step = workload.impls[impl]()
    for _ in range(steps):
        step()
    current, peak = resident_bytes()
    return {"workload": key, "impl": impl, "steps": steps, "after_import_bytes": after_import,
            "peak_bytes": peak, "growth_bytes": peak - after_import, "final_bytes": current,
            "libraries": loaded_libraries()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory_child",
                                     description="Peak resident memory of one training workload, one implementation.")
    parser.add_argument("workload", help="a training workload key: " + ", ".join(TRAINING))
    parser.add_argument("impl", help="implementation: " + ", ".join(IMPORTS))
    parser.add_argument("--steps", type=int, default=20, help="steps to run after setup (default 20)")
    parser.add_argument("--quick", action="store_true", help="the workloads' --quick sizes (as the runner's --quick)")
    parser.add_argument("--torch-threads", type=int, help="torch.set_num_threads(N) in a torch child")
    parser.add_argument("--simd", help="gdcore's SIMD path in a gdcore child")
    parser.add_argument("--threads", type=int, help="gdcore's kernel threads in a gdcore child")
    args = parser.parse_args(argv)
    try:
        result = measure(args.workload, args.impl, args.steps, quick=args.quick, torch_threads=args.torch_threads,
                         simd=args.simd, kernel_threads=args.threads)
    except (ValueError, ImportError) as e:
        print(f"benchmarks.memory_child: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
