"""The gdcore command: demo writes its plots, train fits a CSV written here (checked against numpy's least
squares), and every kind of bad input exits non-zero with exactly one line on stderr and no traceback."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import gdcore
from gdcore import cli

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(gdcore.__file__)))  # the gdcore under test


def run_cli(capsys, *argv):
    """(exit status, stdout, stderr) of cli.main(argv) in this process."""
    try:
        status = cli.main(list(argv))
    except SystemExit as exit_:                      # argparse's --help / --version / usage errors
        status = exit_.code
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def table(tmp_path):
    """A CSV of y = 2a - 0.3b + 1 + N(0, 0.05^2) with b on a large offset scale; returns (path, X, y)."""
    rng = np.random.default_rng(3)
    X = np.c_[rng.normal(size=120), 50 + 10 * rng.normal(size=120)]
    y = 2 * X[:, 0] - 0.3 * X[:, 1] + 1 + 0.05 * rng.normal(size=120)
    path = tmp_path / "table.csv"
    path.write_text("a,b,target\n" + "".join(f"{a:.17g},{b:.17g},{t:.17g}\n" for (a, b), t in zip(X, y)))
    return str(path), X, y


def epoch_losses(out):
    return [float(v) for v in re.findall(r"^epoch +\d+/\d+ +loss (\S+)", out, flags=re.M)]


def test_version_and_help(capsys):
    status, out, _ = run_cli(capsys, "--version")
    assert status == 0 and out.strip() == f"gdcore {gdcore.__version__}"
    for argv in (["--help"], ["demo", "--help"], ["train", "--help"]):
        status, out, _ = run_cli(capsys, *argv)
        assert status == 0 and "usage:" in out


def test_python_m_gdcore_runs_the_command():
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "gdcore", "--version"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"gdcore {gdcore.__version__}"


def test_demo_quick_writes_every_plot(tmp_path, capsys, monkeypatch, data_dir):
    monkeypatch.setenv("GDCORE_DATA_DIR", data_dir)
    out_dir = tmp_path / "demo"
    status, out, err = run_cli(capsys, "demo", "--out", str(out_dir), "--quick")
    assert status == 0, err
    pngs = sorted(p.name for p in out_dir.glob("*.png"))
    for prefix in ("a_", "b_", "c_", "d_", "e_", "f_airfoil_compare", "g_mlp_regions", "h_"):
        assert any(name.startswith(prefix) for name in pngs), (prefix, pngs)
    assert all(p.stat().st_size > 0 for p in out_dir.glob("*.png"))
    for name in ("(a)", "(b)", "(c)", "(d)", "(e)", "(f)", "(g)", "(h)"):
        assert name in out
    assert "lr=0.001" in out                       # the caught divergence of (b) is reported


def test_demo_without_airfoil_data_notes_it(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GDCORE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    status, out, err = run_cli(capsys, "demo", "--out", str(tmp_path / "demo"), "--only", "af")
    assert status == 0, err
    notes = [line for line in out.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "(f) airfoil skipped" in notes[0] and "GDCORE_DATA_DIR" in notes[0]
    assert "(a) linear regression by hand" in out and "(f) airfoil mini-batch" not in out


def test_train_csv_converges_to_least_squares(table, tmp_path, capsys):
    path, X, y = table
    model_file, plot_file = tmp_path / "model.gdc", tmp_path / "loss.png"
    status, out, err = run_cli(capsys, "train", "--csv", path, "--target", "target", "--standardize", "--lr", "0.1",
                               "--batch-size", "16", "--epochs", "40", "--seed", "1", "--plot", str(plot_file),
                               "--save", str(model_file))
    assert status == 0, err
    losses = epoch_losses(out)
    assert len(losses) == 40 and losses[-1] < 0.01 * losses[0]
    assert losses[-1] < 3 * 0.05 ** 2                # the noise variance is 0.0025
    assert plot_file.stat().st_size > 0
    # the saved model takes the raw features (the scaling is folded in) and matches least squares
    model = gdcore.nn.Sequential(gdcore.nn.Linear(2, 1))
    model.load_state_dict(gdcore.load(str(model_file)))
    A = np.c_[X, np.ones(len(X))]
    exact = np.linalg.lstsq(A, y, rcond=None)[0]
    with gdcore.no_grad():
        predicted = model(gdcore.tensor(X, dtype=gdcore.float32)).numpy().ravel()
    np.testing.assert_allclose(predicted, A @ exact, atol=0.05)


def test_train_mlp_with_adam_runs(table, capsys):
    path, _, _ = table
    status, out, err = run_cli(capsys, "train", "--csv", path, "--model", "mlp", "--hidden", "16", "--optimizer",
                               "adam", "--lr", "0.1", "--standardize", "--epochs", "20")
    assert status == 0, err
    losses = epoch_losses(out)
    assert len(losses) == 20 and losses[-1] < 0.01 * losses[0]


def test_train_diverging_run_exits_1_with_advice(table, capsys):
    path, _, _ = table                               # unscaled b ~ 50: lr 0.01 is beyond the stability limit
    status, _, err = run_cli(capsys, "train", "--csv", path, "--epochs", "20")
    assert status == 1
    assert err.count("\n") == 1 and "lr=0.01" in err and "--standardize" in err and "Traceback" not in err


def test_train_check_lr_stops_before_a_diverging_run(table, capsys):
    path, X, _ = table                               # unscaled b ~ 50: lr 0.01 is beyond the stability limit
    status, out, err = run_cli(capsys, "train", "--csv", path, "--epochs", "20", "--check-lr")
    assert status == 1 and err.count("\n") == 1 and "above the stability bound" in err and "lr=0.01" in err
    bound = float(re.search(r"diverges above lr = 2 / lambda_max = (\S+);", out).group(1))
    assert f"{bound:.4g}" in err and bound < 0.01 and "epoch" not in out
    status, out, err = run_cli(capsys, "train", "--csv", path, "--epochs", "3", "--check-lr", "--lr", f"{bound / 3:g}")
    assert status == 0, err
    assert len(epoch_losses(out)) == 3


@pytest.mark.parametrize("argv", [
    ["train", "--csv", "x.csv", "--bogus"],
    ["train"],
    ["train", "--csv", "x.csv", "--dataset", "airfoil"],
    ["train", "--csv", "x.csv", "--lr", "-1"],
    ["train", "--csv", "x.csv", "--epochs", "0"],
    ["train", "--csv", "x.csv", "--model", "cnn"],
    ["train", "--dataset", "airfoil", "--target", "2"],
    ["demo", "--only", "xyz"],
    ["train", "--csv", "x.csv", "--optimizer", "adam", "--check-lr"],
    ["frobnicate"],
    [],
])
def test_usage_errors_exit_2_with_one_line(argv, capsys):
    status, out, err = run_cli(capsys, *argv)
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("gdcore") and "error:" in err and "Traceback" not in err


def test_data_errors_exit_1_with_one_line(tmp_path, table, capsys):
    path, _, _ = table
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,c\n1,2,3\n4,5\n")
    words = tmp_path / "words.csv"
    words.write_text("a,b\n1,2\n3,x\n")
    cases = [
        (["--csv", str(tmp_path / "missing.csv")], "no such file"),
        (["--csv", str(ragged)], "line 3"),
        (["--csv", str(words)], "not a number"),
        (["--csv", path, "--target", "nope"], "no column named 'nope'"),
        (["--csv", path, "--target", "7"], "out of range"),
        (["--csv", path, "--plot", str(tmp_path / "loss.xyz")], "xyz"),
        (["--csv", path, "--save", str(tmp_path / "no-such-dir" / "m.gdc")], "does not exist"),
    ]
    for args, fragment in cases:
        status, _, err = run_cli(capsys, "train", *args)
        assert status == 1, (args, err)
        assert err.count("\n") == 1 and fragment in err and "Traceback" not in err, (args, err)


def test_failed_training_leaves_an_existing_model_file_alone(table, tmp_path, capsys):
    path, _, _ = table
    model_file = tmp_path / "model.gdc"
    model_file.write_bytes(b"precious")
    status, _, _ = run_cli(capsys, "train", "--csv", path, "--epochs", "20", "--save", str(model_file))
    assert status == 1 and model_file.read_bytes() == b"precious"


def test_train_checkpoint_and_resume_match_one_run(table, tmp_path, capsys):
    path, _, _ = table
    common = ("train", "--csv", path, "--model", "mlp", "--hidden", "8", "--optimizer", "momentum", "--lr", "0.01",
              "--standardize", "--batch-size", "16", "--seed", "2")
    status, out, err = run_cli(capsys, *common, "--epochs", "6", "--save", str(tmp_path / "once.gdc"))
    assert status == 0, err
    whole = epoch_losses(out)
    ckpt = str(tmp_path / "run.ckpt")
    status, out, err = run_cli(capsys, *common, "--epochs", "2", "--checkpoint", ckpt, "--checkpoint-every", "3")
    assert status == 0, err
    status, out, err = run_cli(capsys, *common, "--epochs", "6", "--checkpoint", ckpt, "--resume",
                               "--save", str(tmp_path / "resumed.gdc"))
    assert status == 0, err
    assert "resuming from" in out and epoch_losses(out) == whole[2:]
    once, resumed = gdcore.load(str(tmp_path / "once.gdc")), gdcore.load(str(tmp_path / "resumed.gdc"))
    for key in once:
        assert once[key].numpy().tobytes() == resumed[key].numpy().tobytes()
    status, _, err = run_cli(capsys, "train", "--csv", path, "--resume")
    assert status == 2 and "--resume and --checkpoint-every need --checkpoint FILE" in err
