"""Running the distributed tests' worker scripts on N MPI ranks from pytest.

Each job goes through ``python -m gdcore launch`` (so the launcher is exercised too), in its own session so
that a timeout kills every rank, not only mpiexec. The workers check their results themselves and print
``ok <rank>`` at the end; a failed check raises, which aborts the whole job with that rank's traceback.
"""
from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys

import pytest

from gdcore.launch import find_mpiexec

WORKERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workers")

_missing = [what for what, found in (("mpi4py", importlib.util.find_spec("mpi4py") is not None),
                                     ("mpiexec", find_mpiexec() is not None)) if not found]
requires_mpi = pytest.mark.skipif(bool(_missing), reason=f"{' and '.join(_missing)} not installed: "
                                  'pip install "gdcore[mpi]" (scripts/test_all.sh does)')


def run_job(nproc: int, worker: str, *args: str, timeout: float = 60, env=None) -> subprocess.CompletedProcess:
    """Run ``workers/<worker>`` on ``nproc`` ranks; returns the finished process (stdout/stderr as text)."""
    argv = [sys.executable, "-m", "gdcore", "launch", "-n", str(nproc), os.path.join(WORKERS, worker), *args]
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", **(env or {})}
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{worker} on {nproc} ranks did not finish in {timeout} s\nstdout:\n{out}\nstderr:\n{err}")
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def assert_all_ok(job: subprocess.CompletedProcess, nproc: int) -> None:
    """Every rank printed ``ok <rank>`` and the job exited with status 0."""
    ranks = sorted(int(line.split()[1]) for line in job.stdout.splitlines() if line.startswith("ok "))
    assert job.returncode == 0 and ranks == list(range(nproc)), \
        f"exit status {job.returncode}, ok from ranks {ranks}\nstdout:\n{job.stdout}\nstderr:\n{job.stderr}"
