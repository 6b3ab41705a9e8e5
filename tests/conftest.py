"""Shared pytest setup: headless plots, a fixed seed per test, the data directory, and `on_path`
(a test run once on each SIMD path of the kernels)."""
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


# Every SIMD path gdcore's kernels have, slowest first; gdcore._core.simd_paths() says which of them
# this CPU runs. All of them are parameters, so that a path this CPU lacks shows up as skipped.
SIMD_PATHS = ("scalar", "avx2", "avx512")


@pytest.fixture(params=SIMD_PATHS)
def on_path(request):
    """Runs the test on each SIMD path (the value is its name), skipped on a path this CPU cannot run.
    Afterwards the path, gdcore's kernel threads and OpenBLAS's threads are what they were before,
    whatever the test switched (tests compare 1 and 2 threads, or a path with the scalar one)."""
    from gdcore import _core
    if request.param not in _core.simd_paths():
        pytest.skip(f"this CPU has no {request.param} (it runs {', '.join(_core.simd_paths())})")
    before = _core.simd_path(), _core._kernel_threads(), _core._blas_threads()
    _core._set_simd_path(request.param)
    try:
        yield request.param
    finally:
        _core._set_simd_path(before[0])
        _core._set_kernel_threads(before[1])
        _core._set_blas_threads(before[2])
