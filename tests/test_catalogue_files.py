"""Bad-input catalogue, part 3: files and the command line.

Truncated, corrupt and foreign save files; a missing or damaged data file; CSV files that are
ragged, hold text or non-finite values, or are empty; bad command-line flags (the ``gdcore``
command runs in-process through gdcore.cli.main; a failure must exit with status 2 for a usage
mistake or 1 for bad data, with one line on stderr). Each must raise the right exception with a
message that names the problem (see catalogue.py).
"""
import os
import pickle

import numpy as np
import pytest

import gdcore
from catalogue import CommandFailed, bad, check, run_cli
from gdcore.data import load_airfoil, load_csv
from gdcore.data.airfoil import ChecksumError
from gdcore.serialization import SaveFileError


def _write(folder, name: str, content) -> str:
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.write(content.encode() if isinstance(content, str) else content)
    return path


def _saved(folder) -> bytes:
    path = os.path.join(folder, "model.gdc")
    gdcore.save({"w": gdcore.arange(100.0), "step": 3}, path)
    with open(path, "rb") as f:
        return f.read()


def _load_damaged(folder, damage):
    data = bytearray(_saved(folder))
    return gdcore.load(_write(folder, "damaged.gdc", bytes(damage(data))))


def _flip(data, position):
    data[position] ^= 0x01
    return data


def _airfoil_nowhere(folder, **options):
    """load_airfoil with $GDCORE_DATA_DIR and the cache pointing at an empty folder."""
    saved = {k: os.environ.get(k) for k in ("GDCORE_DATA_DIR", "XDG_CACHE_HOME", "GDCORE_AIRFOIL_URL")}
    os.environ.update(GDCORE_DATA_DIR=str(folder), XDG_CACHE_HOME=str(folder),
                      GDCORE_AIRFOIL_URL="http://127.0.0.1:9/airfoil_self_noise.dat")  # port 9: refused at once
    try:
        return load_airfoil(**options)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _csv(folder, text: str, **options):
    return load_csv(_write(folder, "table.csv", text), **options)


GOOD_CSV = "a,b,y\n" + "".join(f"{i},{i % 3},{2 * i}\n" for i in range(12))

SAVE_FILES = [
    bad("save-truncated", lambda tmp: _load_damaged(tmp, lambda d: d[:-10]), SaveFileError, "is truncated"),
    bad("save-truncated-header", lambda tmp: _load_damaged(tmp, lambda d: d[:30]), SaveFileError, "is truncated"),
    bad("save-flipped-payload", lambda tmp: _load_damaged(tmp, lambda d: _flip(d, len(d) - 5)), SaveFileError,
        "is corrupt: its SHA-256 checksum"),
    bad("save-flipped-checksum", lambda tmp: _load_damaged(tmp, lambda d: _flip(d, 40)), SaveFileError,
        "is corrupt"),
    bad("save-trailing-bytes", lambda tmp: _load_damaged(tmp, lambda d: d + b"\0\0"), SaveFileError,
        "2 unexpected bytes"),
    bad("save-empty", lambda tmp: gdcore.load(_write(tmp, "empty.gdc", b"")), SaveFileError, "is empty (0 bytes)"),
    bad("save-pickle", lambda tmp: gdcore.load(_write(tmp, "model.pt", pickle.dumps({"w": [1.0]}))), SaveFileError,
        "is a Python pickle"),
    bad("save-zip", lambda tmp: gdcore.load(_write(tmp, "model.pt", b"PK\x03\x04" + bytes(60))), SaveFileError,
        "a zip archive (PyTorch's torch.save writes these)"),
    bad("save-npy", lambda tmp: gdcore.load(_write(tmp, "w.npy", b"\x93NUMPY\x01\x00" + bytes(60))), SaveFileError,
        "a numpy .npy file"),
    bad("save-text", lambda tmp: gdcore.load(_write(tmp, "notes.txt", "hello\n" * 20)), SaveFileError,
        "not a gdcore save file"),
    bad("load-missing", lambda tmp: gdcore.load(os.path.join(tmp, "absent.gdc")), FileNotFoundError, "absent.gdc"),
    bad("load-folder", lambda tmp: gdcore.load(tmp), IsADirectoryError, "is a directory"),
    bad("save-missing-folder", lambda tmp: gdcore.save(gdcore.ones(1), os.path.join(tmp, "no", "x.gdc")),
        FileNotFoundError, "does not exist; create it first"),
    bad("save-unstorable", lambda tmp: gdcore.save({"a": {1, 2}}, os.path.join(tmp, "x.gdc")), TypeError,
        "cannot store a set at obj['a']"),
    bad("save-numpy", lambda tmp: gdcore.save([np.zeros(2)], os.path.join(tmp, "x.gdc")), TypeError,
        "convert numpy arrays with gdcore.from_numpy"),
]

DATA_FILES = [
    bad("airfoil-missing", lambda tmp: load_airfoil(os.path.join(tmp, "nope.dat")), FileNotFoundError,
        "no such file"),
    bad("airfoil-damaged", lambda tmp: load_airfoil(_write(tmp, "airfoil_self_noise.dat", "800\t0\t0.3\t71.3\n")),
        ChecksumError, "it is not the original airfoil self-noise file"),
    bad("airfoil-no-download", lambda tmp: _airfoil_nowhere(tmp, download=False), FileNotFoundError,
        "not found (looked in"),
    bad("airfoil-download-fails", lambda tmp: _airfoil_nowhere(tmp), RuntimeError, "downloading it from"),
    bad("airfoil-rows", lambda: load_airfoil(n=0, download=False), ValueError, "n must be an int in 1..1503"),
    bad("csv-missing", lambda tmp: load_csv(os.path.join(tmp, "missing.csv")), FileNotFoundError, "no such file"),
    bad("csv-folder", lambda tmp: load_csv(tmp), IsADirectoryError, "is a directory; pass the path of a CSV file"),
    bad("csv-binary", lambda tmp: load_csv(_write(tmp, "x.csv", b"\xff\xfe1,2\n")), ValueError,
        "is not a UTF-8 text file (byte 0 is 0xff)"),
    bad("csv-empty", lambda tmp: _csv(tmp, ""), ValueError, "is empty; it needs rows of numbers"),
    bad("csv-header-only", lambda tmp: _csv(tmp, "a,b\n"), ValueError, "has a header row but no data rows"),
    bad("csv-ragged", lambda tmp: _csv(tmp, "a,b,c\n1,2,3\n4,5\n"), ValueError,
        "line 3 has 2 fields but line 1 has 3"),
    bad("csv-ragged-long", lambda tmp: _csv(tmp, "1,2\n3,4\n5,6,7\n"),
        ValueError, "line 3 has 3 fields but line 1 has 2"),
    bad("csv-text", lambda tmp: _csv(tmp, "a,b\n1,2\n3,x\n"),
        ValueError, "line 3, column 2 ('b'): 'x' is not a number"),
    bad("csv-nan", lambda tmp: _csv(tmp, "a,b\n1,nan\n"), ValueError, "'nan' is not a finite number"),
    bad("csv-inf", lambda tmp: _csv(tmp, "a\tb\n1\t-inf\n"), ValueError, "'-inf' is not a finite number"),
    bad("csv-missing-value", lambda tmp: _csv(tmp, "a,b\n1,\n"), ValueError, "'' is not a number"),
    bad("csv-target-name", lambda tmp: _csv(tmp, GOOD_CSV, target="zz"), ValueError, "no column named 'zz'"),
    bad("csv-target-index", lambda tmp: _csv(tmp, GOOD_CSV, target=7), IndexError,
        "target column 7 is out of range"),
    bad("csv-target-name-no-header", lambda tmp: _csv(tmp, "1,2\n3,4\n", target="y"), ValueError, "has no header row"),
    bad("csv-one-column", lambda tmp: _csv(tmp, "y\n1\n2\n"), ValueError, "has 1 column"),
    bad("csv-delimiter", lambda tmp: _csv(tmp, GOOD_CSV, delimiter=";;"), ValueError,
        "delimiter must be one character"),
    bad("csv-dtype", lambda tmp: _csv(tmp, GOOD_CSV, dtype=gdcore.int64), ValueError,
        "dtype must be gdcore.float32 or gdcore.float64"),
]


def _train(tmp, *flags):
    run_cli(["train", "--csv", _write(tmp, "data.csv", GOOD_CSV), "--epochs", "1", *flags])


COMMAND_LINE = [
    bad("cli-no-command", lambda: run_cli([]), CommandFailed, "exit 2: gdcore: error: choose a command"),
    bad("cli-unknown-command", lambda: run_cli(["bogus"]), CommandFailed, "exit 2: gdcore: error: argument"),
    bad("cli-no-source", lambda: run_cli(["train"]), CommandFailed, "one of the arguments --csv --dataset is required"),
    bad("cli-two-sources", lambda tmp: _train(tmp, "--dataset", "airfoil"), CommandFailed,
        "argument --dataset: not allowed with argument --csv"),
    bad("cli-lr-zero", lambda tmp: _train(tmp, "--lr", "0"), CommandFailed,
        "exit 2: gdcore train: error: argument --lr: expected a positive finite number, got 0"),
    bad("cli-lr-negative", lambda tmp: _train(tmp, "--lr", "-1"),
        CommandFailed, "--lr: expected a positive finite number"),
    bad("cli-lr-nan", lambda tmp: _train(tmp, "--lr", "nan"), CommandFailed, "got nan"),
    bad("cli-lr-text", lambda tmp: _train(tmp, "--lr", "fast"),
        CommandFailed, "expected a positive number, got 'fast'"),
    bad("cli-batch-size-zero", lambda tmp: _train(tmp, "--batch-size", "0"), CommandFailed,
        "argument --batch-size: expected a positive integer, got 0"),
    bad("cli-batch-size-negative", lambda tmp: _train(tmp, "--batch-size", "-3"), CommandFailed, "got -3"),
    bad("cli-epochs-float", lambda tmp: _train(tmp, "--epochs", "1.5"), CommandFailed,
        "argument --epochs: expected a positive integer, got '1.5'"),
    bad("cli-optimizer", lambda tmp: _train(tmp, "--optimizer", "lbfgs"), CommandFailed,
        "argument --optimizer: invalid choice: 'lbfgs'"),
    bad("cli-model", lambda tmp: _train(tmp, "--model", "cnn"), CommandFailed, "invalid choice: 'cnn'"),
    bad("cli-seed-negative", lambda tmp: _train(tmp, "--seed", "-1"), CommandFailed,
        "argument --seed: expected an integer in [0, 2**64), got -1"),
    bad("cli-unknown-flag", lambda tmp: _train(tmp, "--frobnicate"), CommandFailed,
        "unrecognized arguments: --frobnicate"),
    bad("cli-target-with-dataset", lambda: run_cli(["train", "--dataset", "airfoil", "--target", "y"]), CommandFailed,
        "exit 2: gdcore train: error: --target only applies to --csv"),
    bad("cli-only", lambda: run_cli(["demo", "--only", "xyz"]), CommandFailed, "--only takes letters from abcdef"),
    bad("cli-csv-missing", lambda tmp: run_cli(["train", "--csv", os.path.join(tmp, "none.csv")]), CommandFailed,
        "exit 1: gdcore train: error: load_csv: no such file"),
    bad("cli-csv-ragged", lambda tmp: run_cli(["train", "--csv", _write(tmp, "r.csv", "a,b\n1,2\n3\n")]),
        CommandFailed, "exit 1: gdcore train: error: load_csv:"),
    bad("cli-target-range", lambda tmp: _train(tmp, "--target", "9"), CommandFailed, "target column 9 is out of range"),
    bad("cli-save-folder", lambda tmp: _train(tmp, "--save", os.path.join(tmp, "no", "m.gdc")), CommandFailed,
        "--save: the folder"),
    bad("cli-plot-format", lambda tmp: _train(tmp, "--plot", os.path.join(tmp, "loss.txt")), CommandFailed,
        "--plot: cannot write a 'txt' image"),
    bad("cli-diverges", lambda tmp: _train(tmp, "--lr", "1e30", "--epochs", "3"), CommandFailed,
        "gradient descent diverged"),
    bad("cli-huge-model", lambda tmp: _train(tmp, "--model", "mlp", "--hidden", str(2**44)), CommandFailed,
        "exit 1: gdcore train: error: out of memory"),
]


def _safetensors_header(header: str) -> bytes:
    raw = header.encode()
    return len(raw).to_bytes(8, "little") + raw + bytes(8)


def _resume(folder, model, optimizer):
    from gdcore.data import DataLoader, TensorDataset
    from gdcore.train import fit
    path = os.path.join(folder, "run.ckpt")
    loader = DataLoader(TensorDataset(gdcore.ones(4, 2), gdcore.ones(4, 1)), batch_size=2)
    first = gdcore.nn.Linear(2, 1)
    fit(first, gdcore.nn.MSELoss(), gdcore.optim.SGD(first.parameters(), lr=0.1), loader, 1, checkpoint=path)
    fit(model, gdcore.nn.MSELoss(), optimizer(model), loader, 2, checkpoint=path, resume=True)


def _resume_from(folder, saved):
    from gdcore.data import DataLoader, TensorDataset
    from gdcore.train import fit
    path = os.path.join(folder, "other.gdc")
    gdcore.save(saved, path)
    model = gdcore.nn.Linear(2, 1)
    loader = DataLoader(TensorDataset(gdcore.ones(4, 2), gdcore.ones(4, 1)), batch_size=2)
    fit(model, gdcore.nn.MSELoss(), gdcore.optim.SGD(model.parameters(), lr=0.1), loader, 1, checkpoint=path,
        resume=True)


# Issue 15: safetensors files, checkpoints, and the fuzz findings (each with its regression case here).
SAFETENSORS_AND_CHECKPOINTS = [
    bad("safetensors-f16", lambda tmp: gdcore.safetensors.load(
        _safetensors_header('{"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}')), ValueError,
        "tensor 'h' has dtype F16 (float16), which gdcore does not have"),
    bad("safetensors-truncated", lambda tmp: gdcore.safetensors.load(
        _safetensors_header('{"a":{"dtype":"F64","shape":[4],"data_offsets":[0,32]}}')), ValueError,
        "data_offsets [0, 32] outside the 8 data bytes"),
    # fuzz finding: a non-string dtype raised TypeError (unhashable list) instead of a clear error
    bad("safetensors-dtype-list", lambda tmp: gdcore.safetensors.load(
        _safetensors_header('{"a":{"dtype":[],"shape":[1],"data_offsets":[0,8]}}')), ValueError, "unknown dtype []"),
    bad("safetensors-not-a-file", lambda tmp: gdcore.safetensors.load_file(_write(tmp, "x.safetensors", "{}")),
        ValueError, "too short for a safetensors file"),
    bad("checkpoint-other-shape", lambda tmp: _resume(tmp, gdcore.nn.Linear(3, 1), lambda m: gdcore.optim.SGD(
        m.parameters(), lr=0.1)), RuntimeError, "size mismatch for weight: copying a param with shape (1, 2)"),
    bad("checkpoint-not-one", lambda tmp: _resume_from(tmp, {"w": gdcore.ones(2)}), ValueError,
        "is a gdcore save file but not a checkpoint written by fit"),
    bad("checkpoint-incomplete", lambda tmp: _resume_from(tmp, {"format": "gdcore.fit checkpoint", "version": 1}),
        ValueError, "is incomplete (missing ['history', 'model'"),
    bad("checkpoint-other-optimizer", lambda tmp: _resume(tmp, gdcore.nn.Linear(2, 1), lambda m: gdcore.optim.Adam(
        m.parameters())), ValueError, "was written with optimizer SGD but fit got Adam"),
]


@pytest.mark.parametrize("call, error, words", SAVE_FILES + DATA_FILES + COMMAND_LINE + SAFETENSORS_AND_CHECKPOINTS)
def test_bad_input_raises_a_clear_error(call, error, words, tmp_path):
    check(call, error, words, tmp_path)


def test_a_failed_load_leaves_the_file_alone(tmp_path):
    damaged = _saved(tmp_path)[:-10]
    path = _write(tmp_path, "model.gdc", damaged)
    with pytest.raises(SaveFileError):
        gdcore.load(path)
    with open(path, "rb") as f:
        assert f.read() == damaged


def test_a_failed_save_keeps_the_previous_file(tmp_path):
    path = os.path.join(tmp_path, "model.gdc")
    gdcore.save({"step": 1}, path)
    with pytest.raises(TypeError):
        gdcore.save({"step": 2, "bad": object()}, path)
    assert gdcore.load(path) == {"step": 1}
    assert os.listdir(tmp_path) == ["model.gdc"]
