"""``gdcore launch``: start N copies of a Python program under ``mpiexec``, set up for one machine or a cluster.

On one machine (no ``--hostfile``) Open MPI needs a few settings that a laptop, a container or a CI runner
lacks: ``--oversubscribe`` (more ranks than cores is fine for testing), the loopback interface for its own
TCP traffic, shared memory between ranks (Open MPI 5 from pip otherwise picks slower transports), and
permission to run as root when the user is root. With ``--hostfile`` the cluster's settings are left alone:
the command passes straight to the cluster's ``mpiexec`` and only forwards the environment variables the ranks
need. Each rank gets its share of the cores for OpenBLAS (``OPENBLAS_NUM_THREADS``) unless it is set already.
``--dry-run`` prints the command instead of running it.
"""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from typing import Dict, List, Optional, Sequence, Tuple

from .cli import argument_type

__all__ = ["add_parser", "build_command", "run", "launched_world_size", "find_mpiexec"]

# Environment variables through which MPI launchers tell a process its world size (Open MPI, MPICH/Hydra, PMIx).
_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE")
_FORWARDED = ("OPENBLAS_NUM_THREADS", "PYTHONPATH", "GDCORE_DATA_DIR", "GDCORE_SIMD", "MPLBACKEND")


def launched_world_size() -> int:
    """The number of ranks when this process was started by mpiexec (1 otherwise), without importing MPI."""
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def add_parser(commands) -> argparse.ArgumentParser:
    """Adds ``launch`` to the ``gdcore`` command's sub-parsers."""
    launch = commands.add_parser(
        "launch", help="run a Python script on N MPI ranks (data-parallel training)",
        description="Run `python script.py args` (or `python -m module args`) on N ranks with mpiexec. Without "
        "--hostfile all ranks run on this machine (oversubscribed, over shared memory); with --hostfile the "
        "cluster's mpiexec places them. Example: gdcore launch -n 4 examples/distributed_airfoil.py; "
        "gdcore launch -n 2 -m gdcore train --dataset airfoil.")
    launch.add_argument("-n", "--nproc", type=_ranks, required=True, metavar="N", help="number of ranks")
    launch.add_argument("--hostfile", metavar="FILE", help="an MPI hostfile: run on a cluster's hosts")
    launch.add_argument("--dry-run", action="store_true", help="print the mpiexec command and exit")
    launch.add_argument("-m", dest="module", metavar="MODULE", help="run a module, as python -m MODULE")
    launch.add_argument("program", nargs=argparse.REMAINDER, metavar="script.py [args]",
                        help="the script and its arguments (or the module's arguments after -m)")
    return launch


_ranks = argument_type(int, "a positive number of ranks", lambda v: v >= 1)


def find_mpiexec() -> Optional[str]:
    """The mpiexec to use: $GDCORE_MPIEXEC, else the one pip installed beside this Python (the Open MPI that
    mpi4py loads from the gdcore[mpi] extra; its scripts folder is not always on PATH), else PATH's."""
    if os.environ.get("GDCORE_MPIEXEC"):
        return os.environ["GDCORE_MPIEXEC"]
    for folder in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = os.path.join(folder, "mpiexec")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("mpiexec") or shutil.which("mpirun")


def _find_mpiexec() -> str:
    path = find_mpiexec()
    if not path:
        raise FileNotFoundError('mpiexec not found; pip install "gdcore[mpi]" installs Open MPI '
                                "(or put your cluster's mpiexec on PATH, or set GDCORE_MPIEXEC)")
    return path


def _is_open_mpi(mpiexec: str) -> bool:
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    text = out.stdout + out.stderr
    return "Open MPI" in text or "OpenRTE" in text or "Open RTE" in text


def build_command(nproc: int, program: Sequence[str], hostfile: Optional[str] = None, module: Optional[str] = None,
                  mpiexec: Optional[str] = None, open_mpi: Optional[bool] = None,
                  environ: Optional[Dict[str, str]] = None) -> Tuple[List[str], Dict[str, str]]:
    """(argv, environment changes) of the mpiexec run of ``python program`` (or ``python -m module program``)."""
    if module is None and not program:
        raise ValueError("give a script to run (gdcore launch -n 2 train.py) or -m MODULE")
    if hostfile is not None and not os.path.isfile(hostfile):
        raise FileNotFoundError(f"hostfile {hostfile!r} not found")
    environ = os.environ if environ is None else environ
    mpiexec = mpiexec or _find_mpiexec()
    open_mpi = _is_open_mpi(mpiexec) if open_mpi is None else open_mpi
    env: Dict[str, str] = {}
    argv = [mpiexec, "-n", str(nproc)]
    if "OPENBLAS_NUM_THREADS" not in environ:
        per_rank = 1 if hostfile is not None else max(1, (os.cpu_count() or 1) // nproc)
        env["OPENBLAS_NUM_THREADS"] = str(per_rank)
    if open_mpi:
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        if hostfile is None:
            argv.append("--oversubscribe")
            for key, value in (("OMPI_MCA_btl_tcp_if_include", "lo"), ("OMPI_MCA_oob_tcp_if_include", "lo"),
                               ("OMPI_MCA_pml", "ob1"), ("OMPI_MCA_btl", "self,sm")):
                if key not in environ:
                    env[key] = value
        else:
            argv += ["--hostfile", hostfile]
            for key in _FORWARDED:
                if key in environ or key in env:
                    argv += ["-x", key]
    elif hostfile is not None:
        argv += ["-f", hostfile]          # MPICH's Hydra
    argv.append(sys.executable)
    if module is not None:
        argv += ["-m", module]
    argv += list(program)
    return argv, env


def run(args) -> int:
    """``gdcore launch``: run (or with --dry-run print) the command; returns mpiexec's exit status."""
    program = list(args.program)
    if program and program[0] == "--":
        program = program[1:]
    if args.module is None and not program:
        from .cli import UsageError
        raise UsageError("give a script to run (gdcore launch -n 2 train.py) or -m MODULE")
    argv, env = build_command(args.nproc, program, hostfile=args.hostfile, module=args.module)
    if args.dry_run:
        print(" ".join([f"{k}={shlex.quote(v)}" for k, v in sorted(env.items())] + [shlex.quote(a) for a in argv]))
        return 0
    sys.stdout.flush()
    return subprocess.call(argv, env={**os.environ, **env})
