#!/usr/bin/env bash
# Installs everything the tests need and runs all of them: pytest (on the installed
# package) and the C++ unit tests (GoogleTest, via ctest). Safe to run on a fresh machine.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

# System packages: GoogleTest for the C++ tests (Debian: libgtest-dev), cmake/ninja come from pip.
if [ ! -e /usr/lib/x86_64-linux-gnu/cmake/GTest/GTestConfig.cmake ] && [ ! -e /usr/lib/cmake/GTest/GTestConfig.cmake ]; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgtest-dev >/dev/null
  else
    echo "libgtest-dev is missing: run 'sudo apt-get install libgtest-dev' and try again" >&2
    exit 1
  fi
fi

export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
python3 -m pip install -q cmake ninja "pybind11>=3" "scikit-build-core>=0.10"
# Installs gdcore with its dependencies, scipy-openblas32 among them: the C++ builds below find
# OpenBLAS through that package (CMake asks the same python3).
# The mpi extra (mpi4py, Open MPI) too, so the distributed tests (tests/distributed) run instead of skipping.
python3 -m pip install -q ".[test,mpi]"
python="$(python3 -c 'import sys; print(sys.executable)')"

# The airfoil data set lives beside the checkout (../shared/data), never in the repo.
if [ -z "${GDCORE_DATA_DIR:-}" ] && [ -d "$repo/../shared/data" ]; then
  export GDCORE_DATA_DIR="$(cd "$repo/../shared/data" && pwd)"
fi
export MPLBACKEND=Agg

echo "== pytest =="
(cd "$repo/tests" && python3 -m pytest -q -p no:cacheprovider "$@")

echo "== ctest (C++ unit tests) =="
cmake --preset ctest -DPython_EXECUTABLE="$python" >/dev/null
cmake --build --preset ctest -j 2
ctest --preset ctest -j 2

echo "== ctest under AddressSanitizer + UndefinedBehaviorSanitizer =="
cmake --preset asan -DPython_EXECUTABLE="$python" >/dev/null
cmake --build --preset asan -j 2
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --preset asan -j 2
