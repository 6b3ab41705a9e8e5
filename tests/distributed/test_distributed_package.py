"""gdcore.distributed without running a job: packaging (import gdcore never needs mpi4py; a clear ImportError
without it), errors before init_process_group, and the commands `gdcore launch` builds."""
import os
import subprocess
import sys

import pytest

import gdcore
from gdcore.launch import build_command, launched_world_size
from mpi_jobs import requires_mpi


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_import_gdcore_never_imports_mpi4py():
    job = _python("import sys, gdcore, gdcore.nn.parallel, gdcore.data; "
                  "from gdcore.nn.parallel import DistributedDataParallel; "
                  "assert 'mpi4py' not in sys.modules and 'gdcore.distributed' not in sys.modules")
    assert job.returncode == 0, job.stderr


def test_without_mpi4py_the_import_error_names_the_extra():
    job = _python("import sys; sys.modules['mpi4py'] = None\n"
                  "import gdcore\n"
                  "try:\n    import gdcore.distributed\nexcept ImportError as err:\n    print(err)\n")
    assert job.returncode == 0, job.stderr
    assert 'pip install "gdcore[mpi]"' in job.stdout


@requires_mpi
def test_calls_before_init_process_group_raise():
    import gdcore.distributed as dist
    assert not dist.is_initialized()
    for call in (dist.get_rank, dist.get_world_size, dist.barrier, lambda: dist.all_reduce(gdcore.zeros(2)),
                 lambda: dist.broadcast(gdcore.zeros(2), 0), lambda: dist.new_group([0]),
                 lambda: gdcore.nn.parallel.DistributedDataParallel(gdcore.nn.Linear(2, 1))):
        with pytest.raises(RuntimeError, match="init_process_group"):
            call()
    with pytest.raises(ValueError, match="backend='mpi'"):
        dist.init_process_group("gloo")


def test_launch_on_one_machine_sets_up_open_mpi():
    argv, env = build_command(3, ["train.py", "--lr", "0.1"], mpiexec="mpiexec", open_mpi=True, environ={})
    assert argv[:4] == ["mpiexec", "-n", "3", "--oversubscribe"]
    assert argv[4:] == [sys.executable, "train.py", "--lr", "0.1"]
    assert env["OMPI_MCA_btl_tcp_if_include"] == "lo" and env["OMPI_MCA_btl"] == "self,sm"
    assert int(env["OPENBLAS_NUM_THREADS"]) >= 1
    assert ("OMPI_ALLOW_RUN_AS_ROOT" in env) == (os.geteuid() == 0)
    _, env = build_command(2, ["x.py"], mpiexec="mpiexec", open_mpi=True,
                           environ={"OMPI_MCA_btl": "self,tcp", "OPENBLAS_NUM_THREADS": "4"})
    assert "OMPI_MCA_btl" not in env and "OPENBLAS_NUM_THREADS" not in env       # the user's settings win


def test_launch_with_a_hostfile_passes_through(tmp_path):
    hostfile = tmp_path / "hosts"
    hostfile.write_text("node1 slots=4\nnode2 slots=4\n")
    argv, env = build_command(8, [], module="gdcore", mpiexec="mpiexec", open_mpi=True,
                              environ={"PYTHONPATH": "/x"}, hostfile=str(hostfile))
    assert "--oversubscribe" not in argv and not any(k.startswith("OMPI_MCA") for k in env)
    assert argv[argv.index("--hostfile") + 1] == str(hostfile)
    assert argv[-2:] == ["-m", "gdcore"] and "PYTHONPATH" in argv and "OPENBLAS_NUM_THREADS" in argv
    argv, _ = build_command(2, ["x.py"], mpiexec="mpiexec", open_mpi=False, environ={}, hostfile=str(hostfile))
    assert argv[:5] == ["mpiexec", "-n", "2", "-f", str(hostfile)]                 # MPICH's Hydra
    with pytest.raises(FileNotFoundError, match="hostfile"):
        build_command(2, ["x.py"], mpiexec="mpiexec", open_mpi=True, hostfile=str(tmp_path / "missing"))


def test_launched_world_size_reads_the_launcher(monkeypatch):
    for name in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert launched_world_size() == 1
    monkeypatch.setenv("PMI_SIZE", "4")
    assert launched_world_size() == 4
