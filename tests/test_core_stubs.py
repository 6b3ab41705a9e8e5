"""The committed type stubs python/gdcore/_core.pyi name every function of gdcore._core and every
method and property of Tensor, and parse as Python. When this fails after adding a binding,
regenerate the stubs with scripts/generate_stubs.py (pybind11-stubgen, a development tool)."""
import ast
import pathlib

import gdcore
from gdcore import _core

STUBS = pathlib.Path(gdcore.__file__).with_name("_core.pyi")


def _stub_names():
    tree = ast.parse(STUBS.read_text())
    module, classes = set(), {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            module.add(node.name)
        if isinstance(node, ast.ClassDef):
            members = set()
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    members.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members.add(item.target.id)
            classes[node.name] = members
    return module, classes


def test_every_core_function_has_a_stub():
    module, _ = _stub_names()
    missing = sorted(n for n, v in vars(_core).items()
                     if callable(v) and not n.startswith("__") and n not in module)
    assert not missing, f"_core.pyi lacks {missing}; run scripts/generate_stubs.py"


def test_every_tensor_method_and_property_has_a_stub():
    _, classes = _stub_names()
    members = classes["Tensor"]
    # (pybind11's own _pybind11_conduit_v1_ is left out by stubgen, as it should be)
    missing = sorted(n for n in vars(_core.Tensor)
                     if not n.startswith(("__", "_pybind11")) and n not in members)
    assert not missing, f"_core.pyi's Tensor lacks {missing}; run scripts/generate_stubs.py"


def test_hand_written_value_block_is_kept():
    _, classes = _stub_names()
    assert {"__init__", "_prev", "_op", "backward", "data", "grad", "tensor"} <= classes["Value"]
    assert "written by hand" in STUBS.read_text()
