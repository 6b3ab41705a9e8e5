"""Checkpoint and resume of gdcore.train.fit: a run SIGKILLed mid-epoch (or mid-write) and resumed ends with
the weights, bit for bit, of a run never interrupted; Ctrl-C writes a checkpoint and stops; a full disk keeps
the previous checkpoint; mismatching models and optimizers are named. Killed runs live in child processes.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import gdcore
from gdcore import nn, optim
from gdcore.data import DataLoader, TensorDataset
from gdcore.optim.lr_scheduler import StepLR
from gdcore.train import fit

PYTHON_DIR = os.path.dirname(os.path.dirname(gdcore.__file__))

# The training run each child performs; KILL_AT=k SIGKILLs the child during update k (after its forward pass),
# KILL_IN_SAVE=k during the k-th checkpoint write (inside gdcore.save's fsync, the temporary file half done).
CHILD = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    import gdcore
    from gdcore import nn, optim
    from gdcore.data import DataLoader, TensorDataset
    from gdcore.optim.lr_scheduler import StepLR
    from gdcore.train import fit

    kind, path, out, resume, every = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1", sys.argv[5]
    kill_at, kill_in_save = int(os.environ.get("KILL_AT", 0)), int(os.environ.get("KILL_IN_SAVE", 0))
    gdcore.manual_seed(3)
    X = gdcore.randn(40, 3)
    y = X @ gdcore.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * gdcore.randn(40, 1)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    loader = DataLoader(TensorDataset(X, y), batch_size=6, shuffle=True,
                        generator=None if kind == "adam" else gdcore.Generator(11))
    if kind == "sgd":
        opt, sched = optim.SGD(model.parameters(), lr=0.05, momentum=0.9), None
    else:
        opt = optim.Adam(model.parameters(), lr=0.01)
        sched = StepLR(opt, step_size=2, gamma=0.5)
    calls = [0]
    def loss_fn(pred, target):
        calls[0] += 1
        # Draw from the default generator inside each step, as Dropout would: resuming must restore it too.
        noise = 1e-3 * gdcore.randn(*pred.shape)
        if calls[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return ((pred + noise - target) ** 2).mean()
    if kill_in_save:
        real_fsync, writes = os.fsync, [0]
        def fsync(fd):
            writes[0] += 1
            if writes[0] == 2 * kill_in_save - 1:   # each save fsyncs the file, then its folder
                os.kill(os.getpid(), signal.SIGKILL)
            real_fsync(fd)
        os.fsync = fsync
    history = fit(model, loss_fn, opt, loader, int(os.environ.get("EPOCHS", 5)), scheduler=sched, checkpoint=path,
                  checkpoint_every=every if every == "epoch" else int(every), resume=resume, progress=False)
    gdcore.save({"model": model.state_dict(), "losses": history.losses, "steps": history.steps}, out)
""")


def _command(tmp_path, kind, resume, every, **env_extra):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, OPENBLAS_NUM_THREADS="1",
               **{k: str(v) for k, v in env_extra.items()})
    out = tmp_path / f"{kind}-result-{len(list(tmp_path.iterdir()))}.gdc"
    return [sys.executable, "-c", CHILD, kind, str(tmp_path / f"{kind}.ckpt"), str(out), "1" if resume else "0",
            str(every)], env, out


def _run(tmp_path, kind, resume, every, **env_extra):
    argv, env, out = _command(tmp_path, kind, resume, every, **env_extra)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120), out


def _same(a, b) -> None:
    assert a["steps"] == b["steps"] and a["losses"] == b["losses"]
    for key in a["model"]:
        left, right = a["model"][key].numpy(), b["model"][key].numpy()
        assert left.tobytes() == right.tobytes(), key


@pytest.mark.parametrize("kind, every, kill", [
    ("sgd", 4, {"KILL_AT": 19}),          # SGD with momentum, own loader generator, step checkpoints, mid-epoch 3
    ("adam", "epoch", {"KILL_AT": 23}),   # Adam + StepLR, loader on the default generator, epoch checkpoints
    ("adam", 3, {"KILL_IN_SAVE": 4}),     # killed while writing the 4th checkpoint: the 3rd must survive
])
def test_sigkill_and_resume_matches_an_uninterrupted_run_bit_for_bit(tmp_path, kind, every, kill):
    reference_dir = tmp_path / "reference"
    reference_dir.mkdir()
    proc, reference = _run(reference_dir, kind, False, every)
    assert proc.returncode == 0, proc.stderr
    killed, _ = _run(tmp_path, kind, False, every, **kill)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (tmp_path / f"{kind}.ckpt").exists()
    resumed, out = _run(tmp_path, kind, True, every)
    assert resumed.returncode == 0, resumed.stderr
    _same(gdcore.load(reference), gdcore.load(out))
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp") and "KILL_IN_SAVE" not in kill]


def test_sigkill_at_a_random_instant_and_resume_matches(tmp_path):
    # The parent kills the child at a moment it does not choose: mid-step, mid-write, between epochs.
    reference_dir = tmp_path / "reference"
    reference_dir.mkdir()
    proc, reference = _run(reference_dir, "sgd", False, 2, EPOCHS=12)
    assert proc.returncode == 0, proc.stderr
    argv, env, _ = _command(tmp_path, "sgd", False, 2, EPOCHS=12)
    child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = tmp_path / "sgd.ckpt"
    deadline = time.monotonic() + 60
    while not checkpoint.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(np.random.default_rng().uniform(0.0, 0.05))
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)  # -9, or 0 when the run ended first: either way the resumed weights must match
    resumed, out = _run(tmp_path, "sgd", True, 2, EPOCHS=12)
    assert resumed.returncode == 0, resumed.stderr
    _same(gdcore.load(reference), gdcore.load(out))


def _problem(seed=0):
    gdcore.manual_seed(seed)
    X = gdcore.randn(30, 2)
    y = X.sum(dim=1, keepdim=True)
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.5)
    loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, generator=gdcore.Generator(5))
    return model, opt, loader


def test_ctrl_c_writes_a_checkpoint_then_raises_and_resume_finishes_the_same(tmp_path, capsys):
    model, opt, loader = _problem()
    fit(model, nn.MSELoss(), opt, loader, 3, progress=False)
    expected = model.weight.detach().numpy().copy()

    model, opt, loader = _problem()
    path = tmp_path / "run.ckpt"
    calls = [0]

    def loss_fn(pred, target):
        calls[0] += 1
        if calls[0] == 10:
            os.kill(os.getpid(), signal.SIGINT)   # the handler only sets a flag: this step still completes
        return nn.functional.mse_loss(pred, target)

    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt, match="checkpoint saved"):
        fit(model, loss_fn, opt, loader, 3, checkpoint=path, checkpoint_every=100, progress=False)
    assert signal.getsignal(signal.SIGINT) is handler
    assert f"checkpoint saved to {path}" in capsys.readouterr().err
    state = gdcore.load(path)
    assert state["position"]["epoch"] == 2 and state["position"]["batches_done"] == 2  # 8 batches per epoch

    model, opt, loader = _problem()
    history = fit(model, nn.MSELoss(), opt, loader, 3, checkpoint=path, resume=True, progress=False)
    assert history.steps == 24 and len(history.train_losses) == 3
    np.testing.assert_array_equal(model.weight.detach().numpy(), expected)


def test_resume_with_a_mismatching_model_or_optimizer_names_it(tmp_path):
    path = tmp_path / "run.ckpt"
    model, opt, loader = _problem()
    fit(model, nn.MSELoss(), opt, loader, 1, checkpoint=path, progress=False)

    wide = nn.Linear(2, 3)
    before = wide.weight.detach().numpy().copy()
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: .*\(1, 2\).*\(3, 2\)"):
        fit(wide, nn.MSELoss(), optim.SGD(wide.parameters(), lr=0.1), loader, 2, checkpoint=path, resume=True)
    np.testing.assert_array_equal(wide.weight.detach().numpy(), before)   # left as it was

    model, _, loader = _problem()
    with pytest.raises(ValueError, match="written with optimizer SGD but fit got Adam"):
        fit(model, nn.MSELoss(), optim.Adam(model.parameters()), loader, 2, checkpoint=path, resume=True)
    other = nn.Sequential(nn.Linear(2, 1))
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "0.weight"'):
        fit(other, nn.MSELoss(), optim.SGD(other.parameters(), lr=0.1), loader, 2, checkpoint=path, resume=True)
    model, opt, loader = _problem()
    with pytest.raises(ValueError, match="written with scheduler None but fit got StepLR"):
        fit(model, nn.MSELoss(), opt, loader, 2, scheduler=StepLR(opt, 1), checkpoint=path, resume=True)
    with pytest.raises(FileNotFoundError, match="no checkpoint at .*pass resume=False"):
        fit(model, nn.MSELoss(), opt, loader, 2, checkpoint=tmp_path / "none.ckpt", resume=True)
    with pytest.raises(ValueError, match="resume=True needs checkpoint=PATH"):
        fit(model, nn.MSELoss(), opt, loader, 2, resume=True)
    with pytest.raises(ValueError, match="checkpoint_every must be"):
        fit(model, nn.MSELoss(), opt, loader, 2, checkpoint=path, checkpoint_every=0)


FULL_DISK = textwrap.dedent("""
    import hashlib, resource, signal, sys
    import gdcore
    from gdcore import nn, optim
    from gdcore.data import DataLoader, TensorDataset
    from gdcore.train import fit
    path = sys.argv[1]
    gdcore.manual_seed(0)
    X, y = gdcore.randn(20, 50), gdcore.randn(20, 1)
    model = nn.Linear(50, 1)
    opt = optim.Adam(model.parameters(), lr=0.01)
    loader = DataLoader(TensorDataset(X, y), batch_size=5, shuffle=True)
    fit(model, nn.MSELoss(), opt, loader, 1, checkpoint=path, progress=False)
    before = open(path, "rb").read()
    # A file-size limit stands in for a full disk: writes past it fail with EFBIG instead of killing us.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (len(before) // 2, len(before) // 2))
    try:
        fit(model, nn.MSELoss(), opt, loader, 2, checkpoint=path, resume=True, progress=False)
    except OSError as err:
        print("OSError:", err)
    print("intact" if open(path, "rb").read() == before else "CHANGED")
    print("loads, epoch", gdcore.load(path)["position"]["epoch"])
""")


def test_a_full_disk_keeps_the_previous_checkpoint_and_says_so(tmp_path):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    proc = subprocess.run([sys.executable, "-c", FULL_DISK, str(tmp_path / "run.ckpt")], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "OSError: [Errno 27] fit: could not write the checkpoint" in proc.stdout
    assert "the previous checkpoint there is intact" in proc.stdout
    assert "\nintact\n" in proc.stdout and "loads, epoch 2" in proc.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["run.ckpt"]   # no temporary file left behind


def test_module_generators_and_the_default_one_are_checkpointed(tmp_path):
    from gdcore.checkpoint import checkpoint_generators

    class Noisy(nn.Module):                      # stands in for Dropout with its own generator
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)
            self.generator = gdcore.Generator(7)

        def forward(self, x):
            return self.fc(x) + 0.01 * gdcore.randn(x.shape[0], 1, generator=self.generator)

    def run(stop_after_epoch1):
        gdcore.manual_seed(1)
        model = Noisy()
        opt = optim.SGD(model.parameters(), lr=0.1)
        X, y = gdcore.randn(12, 2), gdcore.randn(12, 1)
        loader = DataLoader(TensorDataset(X, y), batch_size=5, shuffle=True)
        fit(model, nn.MSELoss(), opt, loader, 1 if stop_after_epoch1 else 3, checkpoint=tmp_path / "n.ckpt",
            checkpoint_every=2, progress=False)
        if stop_after_epoch1:
            gdcore.manual_seed(99)                # a fresh process would start elsewhere; resume must undo it
            model.generator.manual_seed(42)
            fit(model, nn.MSELoss(), opt, loader, 3, checkpoint=tmp_path / "n.ckpt", resume=True, progress=False)
        return model, loader

    model, loader = run(False)
    assert sorted(checkpoint_generators(model, loader)) == ["default", "model.generator"]
    resumed, _ = run(True)
    np.testing.assert_array_equal(model.fc.weight.detach().numpy(), resumed.fc.weight.detach().numpy())


def test_resume_keeps_every_history_field_and_sharpness_continues(tmp_path):
    path = tmp_path / "s.ckpt"
    model, opt, loader = _problem()              # 8 batches per epoch
    fit(model, nn.MSELoss(), opt, loader, 1, checkpoint=path, track_sharpness=3, progress=False)
    model, opt, loader = _problem()
    history = fit(model, nn.MSELoss(), opt, loader, 2, checkpoint=path, resume=True, track_sharpness=3,
                  progress=False)
    # the records of the first run come back from the checkpoint; the resumed run starts its own at step 8
    assert history.sharpness_steps == [0, 3, 6, 8, 9, 12, 15]
    assert len(history.sharpness) == len(history.sharpness_limits) == 7 and len(history.train_losses) == 2
