"""``import gdcore`` makes every submodule reachable as an attribute, as ``torch.optim`` is
after ``import torch`` (gdcore/__init__.py); the heavy ones (plot: matplotlib; optimize)
load on first use. Checked in a fresh interpreter, where nothing else has imported them.
"""
import os
import subprocess
import sys

import pytest

import gdcore

SUBMODULES = ["optimize", "plot", "train", "data", "autograd", "nn", "optim", "utils", "cuda", "backends",
              "accelerator", "curvature"]


def _fresh(code: str) -> str:
    env = dict(os.environ, MPLBACKEND="Agg")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_heavy_submodules_load_on_first_use_only():
    code = ("import sys, gdcore\n"
            "before = [m for m in ('matplotlib', 'gdcore.plot', 'gdcore.optimize', 'multiprocessing') "
            "if m in sys.modules]\n"
            "names = [gdcore.plot.__name__, gdcore.optimize.__name__, gdcore.optimize.gd.__name__]\n"
            "print(before, names, 'gdcore.plot' in sys.modules)")
    assert _fresh(code) == "[] ['gdcore.plot', 'gdcore.optimize', 'gd'] True"


@pytest.mark.parametrize("name", SUBMODULES)
def test_every_submodule_is_an_attribute(name):
    module = getattr(gdcore, name)
    assert module.__name__ == f"gdcore.{name}"


def test_unknown_attributes_still_raise_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'no_such_thing'"):
        gdcore.no_such_thing  # noqa: B018
    assert not hasattr(gdcore, "cudnn")


def test_import_gdcore_loads_nothing_it_does_not_use():
    # Loaded on first use instead: downloads (urllib, http,
    # ssl, email), render_graph's subprocess, the curvature tools, plots; OpenBLAS is opened without
    # importing scipy_openblas32's __init__ (importlib.metadata).
    code = ("import sys, gdcore\n"
            "print([m for m in ('matplotlib', 'urllib.request', 'http.client', 'ssl', 'email', 'subprocess', "
            "'importlib.metadata', 'scipy_openblas32', 'gdcore.curvature') if m in sys.modules])\n"
            "from gdcore.train import suggest_lr\n"
            "print(suggest_lr.__module__, gdcore.data.download.fetch_verified.__name__)")
    assert _fresh(code) == "[]\ngdcore.curvature.advisor fetch_verified"
