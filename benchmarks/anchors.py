"""The libraries gdcore is compared with, imported only when installed.

numpy is required (gdcore needs it too). torch, scikit-learn and micrograd are optional:
a missing one is reported as a note and its rows are left out. None of them is a
dependency of gdcore.
"""
from __future__ import annotations

import importlib
from typing import Dict, List, Optional

import numpy as np

OPTIONAL = {"torch": "torch", "scikit-learn": "sklearn", "micrograd": "micrograd"}


class Anchors:
    """The optional modules that imported, the notes for those that did not, and versions."""

    def __init__(self, skip: Optional[List[str]] = None):
        self.modules: Dict[str, object] = {}
        self.notes: List[str] = []
        for name, module in OPTIONAL.items():
            if skip and name in skip:
                self.notes.append(f"{name}: skipped (--skip)")
                continue
            try:
                self.modules[name] = importlib.import_module(module)
            except ImportError as e:
                self.notes.append(f"{name}: not installed ({e}); its rows are left out")
        if "torch" in self.modules:
            self.modules["torch"].manual_seed(0)

    def get(self, name: str):
        return self.modules.get(name)

    def versions(self) -> Dict[str, str]:
        out = {"numpy": np.__version__}
        for name, module in self.modules.items():
            out[name] = getattr(module, "__version__", "installed")
        if "micrograd" in self.modules and out["micrograd"] == "installed":
            try:
                from importlib.metadata import version
                out["micrograd"] = version("micrograd")
            except Exception:  # metadata is optional; the name alone still says it ran
                pass
        if "torch" in self.modules:
            out["torch threads"] = str(self.modules["torch"].get_num_threads())
        return out
