"""Distributed tests that run real MPI jobs (2 and 3 ranks, oversubscribed): collectives, DDP against one
process, compiled DDP steps against eager DDP, a failing rank (eager and inside a compiled step), and
``gdcore train`` under the launcher. Each job's checks run inside the workers
(tests/distributed/workers); here we launch them and read their exit status and output."""
import os
import time

import numpy as np
import pytest

from mpi_jobs import assert_all_ok, requires_mpi, run_job

pytestmark = requires_mpi


@pytest.mark.parametrize("nproc", [2, 3])
def test_collectives_and_their_errors(nproc):
    assert_all_ok(run_job(nproc, "collectives.py"), nproc)


@pytest.mark.parametrize("nproc", [2, 3])
def test_ddp_equals_one_process_on_the_global_batch(nproc):
    assert_all_ok(run_job(nproc, "ddp_equivalence.py"), nproc)


@pytest.mark.parametrize("nproc, env", [(2, {"GDCORE_COMPILE_LOWER": "0"}), (3, {})], ids=["2-op-by-op", "3-lowered"])
def test_compiled_ddp_equals_eager_ddp_and_one_process(nproc, env):
    assert_all_ok(run_job(nproc, "ddp_compiled.py", env=env), nproc)


def test_a_rank_that_raises_inside_a_compiled_step_ends_the_job_within_seconds():
    started = time.monotonic()
    job = run_job(3, "compiled_rank_fails.py", timeout=30)
    elapsed = time.monotonic() - started
    assert job.returncode != 0
    assert "deliberate failure inside a compiled step on rank 1" in job.stderr and "Traceback" in job.stderr, job.stderr
    assert elapsed < 20, f"the job took {elapsed:.1f} s to end"


def test_a_rank_that_raises_ends_the_job_within_seconds():
    started = time.monotonic()
    job = run_job(3, "rank_fails.py", timeout=30)
    elapsed = time.monotonic() - started
    assert job.returncode != 0
    assert "deliberate failure on rank 1" in job.stderr and "Traceback" in job.stderr, job.stderr
    assert elapsed < 20, f"the job took {elapsed:.1f} s to end"


def test_gdcore_train_under_the_launcher(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    table = np.column_stack([x, x @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=60)])
    csv = tmp_path / "table.csv"
    np.savetxt(csv, table, delimiter=",", header="a,b,c,y", comments="")
    saved = tmp_path / "model.gd"
    job = run_job(2, "run_gdcore_train.py", "--csv", str(csv), "--epochs", "3", "--batch-size", "10",
                  "--save", str(saved))
    assert job.returncode == 0, job.stderr
    epochs = [line for line in job.stdout.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 3, job.stdout                     # rank 0 prints, the other rank does not
    losses = [float(line.split("loss ")[1].split()[0]) for line in epochs]
    assert losses[-1] < losses[0]
    import gdcore
    state = gdcore.load(str(saved))
    assert sorted(state) == ["0.bias", "0.weight"]         # the plain model's keys, not DDP's "module." ones
    assert os.path.getsize(saved) > 0


def test_train_rejects_a_batch_that_does_not_split(tmp_path):
    csv = tmp_path / "t.csv"
    np.savetxt(csv, np.ones((6, 2)), delimiter=",", header="a,y", comments="")
    job = run_job(2, "run_gdcore_train.py", "--csv", str(csv), "--batch-size", "5")
    assert job.returncode != 0 and "does not split evenly over 2 ranks" in job.stderr, job.stderr


EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "examples")


def test_airfoil_example_trains_the_same_on_one_and_two_ranks(data_dir):
    script = os.path.join(EXAMPLES, "distributed_airfoil.py")
    lines = {}
    for nproc in (1, 2):
        job = run_job(nproc, script, "--epochs", "1", env={"GDCORE_DATA_DIR": data_dir})
        assert job.returncode == 0, job.stderr
        lines[nproc] = [line.split(",")[0] for line in job.stdout.splitlines() if line.startswith("epoch ")]
    assert len(lines[1]) == 1 and lines[1] == lines[2], lines     # "epoch k: loss x.xxxx", printed by rank 0 only


def test_classification_example_learns_on_two_ranks():
    job = run_job(2, os.path.join(EXAMPLES, "distributed_classification.py"), "--samples", "900", "--epochs", "2")
    assert job.returncode == 0, job.stderr
    accuracy = [float(line.split("test accuracy ")[1].split(",")[0]) for line in job.stdout.splitlines()
                if line.startswith("epoch ")]
    assert len(accuracy) == 2 and accuracy[-1] > 0.6, job.stdout        # chance is 1/3
