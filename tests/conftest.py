"""Shared pytest setup: headless plots, a fixed seed per test, and the data directory."""
import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _seed():
    import gdcore
    gdcore.manual_seed(0)
    yield


@pytest.fixture
def data_dir():
    """The folder holding airfoil_self_noise.dat (GDCORE_DATA_DIR, or ../shared/data beside the checkout)."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.environ.get("GDCORE_DATA_DIR"), os.path.join(here, "..", "..", "shared", "data")]
    for c in candidates:
        if c and os.path.exists(os.path.join(c, "airfoil_self_noise.dat")):
            return os.path.abspath(c)
    pytest.fail("airfoil_self_noise.dat not found: set GDCORE_DATA_DIR to the folder that holds it")
