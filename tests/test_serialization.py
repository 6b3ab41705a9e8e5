"""gdcore.save / gdcore.load (gdcore/serialization.py): bit-exact round trips, a format
that never runs code, clear errors for truncated/corrupt/foreign files, and atomic
writes that survive an exception or a SIGKILL mid-save.

Expected bytes come from numpy's own buffers of the source arrays; forged files are
assembled here with struct and hashlib, independently of the writer.
"""
import hashlib
import json
import math
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest

import gdcore
from gdcore import serialization
from gdcore.serialization import MAGIC, SaveFileError

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(gdcore.__file__)))


def _same_tensor(loaded, original: np.ndarray):
    assert isinstance(loaded, gdcore.Tensor)
    assert loaded.shape == original.shape
    assert loaded.dtype == {np.float32: gdcore.float32, np.float64: gdcore.float64, np.int64: gdcore.int64}[original.dtype.type]
    assert loaded.numpy().tobytes() == np.ascontiguousarray(original).tobytes()


def _round_trip(obj, tmp_path):
    path = tmp_path / "obj.gdc"
    gdcore.save(obj, path)
    return gdcore.load(path)


# ---- round trips ------------------------------------------------------------------------------

def test_random_bits_round_trip_exactly(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {
        "f32": rng.integers(0, 2**32, size=(17, 5), dtype=np.uint32).view(np.float32),  # includes NaN payloads
        "f64": rng.integers(0, 2**63, size=(3, 4, 5), dtype=np.uint64).view(np.float64),
        "i64": np.array([np.iinfo(np.int64).min, -1, 0, 1, np.iinfo(np.int64).max], dtype=np.int64),
        "specials": np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, 3.4028235e38], dtype=np.float32),
    }
    loaded = _round_trip({k: gdcore.from_numpy(v) for k, v in arrays.items()}, tmp_path)
    assert list(loaded) == list(arrays)
    for key, array in arrays.items():
        _same_tensor(loaded[key], array)


def test_zero_dim_empty_and_non_contiguous_views(tmp_path):
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    t = gdcore.from_numpy(base.copy())
    cases = {
        "scalar": (gdcore.zeros(()) + 2.5, np.array(2.5, dtype=np.float32)),
        "scalar_int": (gdcore.from_numpy(np.array(7, dtype=np.int64)), np.array(7, dtype=np.int64)),
        "empty": (gdcore.zeros(0, 3), np.zeros((0, 3), dtype=np.float32)),
        "empty_int": (gdcore.zeros(2, 0, dtype=gdcore.int64), np.zeros((2, 0), dtype=np.int64)),
        "transposed": (t.t(), base.T),
        "strided": (t[::2, 1::3], base[::2, 1::3]),
        "permuted": (t.reshape(2, 3, 4).permute(2, 0, 1), base.reshape(2, 3, 4).transpose(2, 0, 1)),
        "expanded": (t[0:1].expand(3, 6), np.broadcast_to(base[0:1], (3, 6))),
    }
    assert not cases["transposed"][0].is_contiguous()
    loaded = _round_trip({k: v[0] for k, v in cases.items()}, tmp_path)
    for key, (_, expected) in cases.items():
        _same_tensor(loaded[key], expected)
        if expected.size:  # (gdcore's is_contiguous() reports False for some empty shapes, e.g. (2, 0))
            assert loaded[key].is_contiguous()


def test_nested_state_dict_structure_and_python_values(tmp_path):
    weight = gdcore.randn(3, 2)
    obj = {
        "model": OrderedDict([("0.weight", weight), ("0.bias", gdcore.zeros(3))]),
        "optimizer": {
            "state": {0: {"momentum_buffer": gdcore.ones(3, 2), "step": 12}, 1: {}},
            "param_groups": [{"params": [0, 1], "lr": 0.1, "betas": (0.9, 0.999), "nesterov": False,
                              "weight_decay": 0, "foreach": None, "name": "héllo ✓"}],
        },
        "big": 2**80, "negative": -3, "flags": [True, False, None], (1, "pair"): "tuple key", 2.5: "float key",
        "floats": [0.1, 1 / 3, 5e-324, -0.0, math.inf, -math.inf, 1.7976931348623157e308],
        "empty": [[], (), {}],
    }
    loaded = _round_trip(obj, tmp_path)
    assert type(loaded["model"]) is OrderedDict and list(loaded["model"]) == ["0.weight", "0.bias"]
    _same_tensor(loaded["model"]["0.weight"], weight.numpy())
    state = loaded["optimizer"]["state"]
    assert list(state) == [0, 1] and state[0]["step"] == 12 and state[1] == {}
    group = loaded["optimizer"]["param_groups"][0]
    assert group["params"] == [0, 1] and group["betas"] == (0.9, 0.999) and type(group["betas"]) is tuple
    assert group["nesterov"] is False and group["weight_decay"] == 0 and type(group["weight_decay"]) is int
    assert group["foreach"] is None and group["name"] == "héllo ✓"
    assert loaded["big"] == 2**80 and loaded["negative"] == -3 and loaded["flags"] == [True, False, None]
    assert all(type(v) is bool for v in loaded["flags"][:2])
    assert loaded[(1, "pair")] == "tuple key" and loaded[2.5] == "float key"
    assert [struct.pack("<d", v) for v in loaded["floats"]] == [struct.pack("<d", v) for v in obj["floats"]]
    assert loaded["empty"] == [[], (), {}] and type(loaded["empty"][1]) is tuple
    nan = _round_trip([math.nan], tmp_path)[0]
    assert math.isnan(nan)


def test_single_tensor_numpy_scalars_and_shared_tensors(tmp_path):
    t = gdcore.arange(5.0)
    _same_tensor(_round_trip(t, tmp_path), np.arange(5, dtype=np.float32))
    loaded = _round_trip({"a": t, "b": [t], "n": np.float64(0.5), "i": np.int64(3), "flag": np.bool_(True)}, tmp_path)
    assert loaded["a"] is loaded["b"][0]  # stored once, loaded as one tensor
    assert loaded["n"] == 0.5 and loaded["i"] == 3 and loaded["flag"] is True


def test_requires_grad_is_kept_and_loaded_tensors_are_leaves(tmp_path):
    w = gdcore.ones(2, requires_grad=True)
    loaded = _round_trip({"w": w, "y": w * 3, "plain": gdcore.ones(2)}, tmp_path)
    assert loaded["w"].requires_grad and loaded["w"].is_leaf
    assert loaded["y"].requires_grad and loaded["y"].is_leaf and loaded["y"].tolist() == [3.0, 3.0]
    assert not loaded["plain"].requires_grad


def test_loaded_tensors_are_independent_and_writable(tmp_path):
    t = gdcore.zeros(3)
    loaded = _round_trip(t, tmp_path)
    loaded.add_(1.0)
    assert loaded.tolist() == [1.0, 1.0, 1.0] and t.tolist() == [0.0, 0.0, 0.0]


def test_module_and_optimizer_state_dicts_round_trip(tmp_path):
    from gdcore import nn, optim

    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(gdcore.randn(5, 3)).sum().backward()
    optimizer.step()
    loaded = _round_trip({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path)
    copy = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    copy.load_state_dict(loaded["model"])
    for (name, p), (name2, q) in zip(model.named_parameters(), copy.named_parameters()):
        assert name == name2 and p.detach().numpy().tobytes() == q.detach().numpy().tobytes()
    saved_state = optimizer.state_dict()
    assert loaded["optimizer"]["param_groups"] == saved_state["param_groups"]
    for key, entry in saved_state["state"].items():
        buffer = entry["momentum_buffer"]
        _same_tensor(loaded["optimizer"]["state"][key]["momentum_buffer"], buffer.numpy())


# ---- what save refuses --------------------------------------------------------------------------

@pytest.mark.parametrize("obj, error, words", [
    ({"a": {1, 2}}, TypeError, "cannot store a set at obj['a']"),
    ([np.zeros(2)], TypeError, "cannot store a ndarray at obj[0]; gdcore.save stores"),
    ({gdcore.zeros(1): 1}, TypeError, "cannot store the dict key"),
    ({"f": lambda: 1}, TypeError, "cannot store a function"),
])
def test_unstorable_objects_leave_no_file(tmp_path, obj, error, words):
    path = tmp_path / "x.gdc"
    with pytest.raises(error) as info:
        gdcore.save(obj, path)
    assert words in str(info.value)
    assert os.listdir(tmp_path) == []


def test_cycles_are_refused(tmp_path):
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        gdcore.save({"loop": loop}, tmp_path / "x.gdc")


def test_bad_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        gdcore.save(gdcore.ones(1), tmp_path / "missing" / "x.gdc")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        gdcore.save(gdcore.ones(1), tmp_path)
    with pytest.raises(TypeError, match="file path"):
        gdcore.save(gdcore.ones(1), 3)
    with pytest.raises(FileNotFoundError):
        gdcore.load(tmp_path / "absent.gdc")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        gdcore.load(tmp_path)


# ---- what load refuses --------------------------------------------------------------------------

@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "good.gdc"
    gdcore.save({"w": gdcore.arange(100.0).reshape(10, 10), "step": 3}, path)
    return path


def _load_error(path):
    with pytest.raises(SaveFileError) as info:
        gdcore.load(path)
    assert isinstance(info.value, ValueError)
    return str(info.value)


@pytest.mark.parametrize("where", ["payload", "header", "checksum"])
def test_flipped_byte_is_a_checksum_error(saved, where):
    data = bytearray(saved.read_bytes())
    header_length = struct.unpack_from("<Q", data, 12)[0]
    position = {"payload": len(data) - 7, "header": 60 + header_length // 2, "checksum": 40}[where]
    data[position] ^= 0x01
    saved.write_bytes(bytes(data))
    assert "is corrupt: its SHA-256 checksum" in _load_error(saved)


@pytest.mark.parametrize("keep", [0, 5, 8, 30, 59, 60, 200, -1])
def test_truncated_files(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(data[:keep] if keep >= 0 else data[:-1])
    message = _load_error(saved)
    if keep == 0:
        assert "is empty (0 bytes)" in message
    elif 0 < keep < 8:
        assert "not a gdcore save file" in message
    else:
        assert "is truncated" in message


def test_trailing_bytes(saved):
    saved.write_bytes(saved.read_bytes() + b"\0")
    assert "1 unexpected bytes" in _load_error(saved)


def test_newer_format_version(saved):
    data = bytearray(saved.read_bytes())
    struct.pack_into("<I", data, 8, 2)
    saved.write_bytes(bytes(data))
    assert "format version 2" in _load_error(saved) and "upgrade gdcore" in _load_error(saved)


def test_pickle_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return os.mkdir, (str(marker),)

    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"w": Exploit()}, protocol=4))
    message = _load_error(path)
    assert "a Python pickle" in message and "never unpickles" in message
    assert not marker.exists()


@pytest.mark.parametrize("content, words", [
    (b"PK\x03\x04" + bytes(100), "zip archive"),
    (b"\x93NUMPY\x01\x00" + bytes(100), "numpy .npy file"),
    (bytes(range(256)) * 4, "not a gdcore save file (it starts with b'\\x00\\x01"),
    (b"w,b\n1,2\n", "not a gdcore save file"),
])
def test_foreign_files(tmp_path, content, words):
    path = tmp_path / "foreign.bin"
    path.write_bytes(content)
    assert words in _load_error(path)


def _forge(path, header, payload=b""):
    """A file with a valid prefix and checksum around any header (dict or raw bytes)."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    digest = hashlib.sha256(raw + payload).digest()
    path.write_bytes(struct.pack("<8sIQQ32s", MAGIC, 1, len(raw), len(payload), digest) + raw + payload)


@pytest.mark.parametrize("header, payload", [
    (b"not json", b""),
    ({"format": "something else", "tensors": [], "root": {"t": "none"}}, b""),
    ({"format": "gdcore.save", "tensors": [], "root": {"t": "pickle", "v": "x"}}, b""),
    ({"format": "gdcore.save", "tensors": [], "root": {"t": "tensor", "i": 0}}, b""),
    ({"format": "gdcore.save", "tensors": [{"dtype": "float32", "shape": [4], "offset": 0, "nbytes": 16}],
      "root": {"t": "tensor", "i": 0}}, bytes(8)),
    ({"format": "gdcore.save", "tensors": [{"dtype": "float32", "shape": [3], "offset": 0, "nbytes": 16}],
      "root": {"t": "tensor", "i": 0}}, bytes(16)),
    ({"format": "gdcore.save", "tensors": [{"dtype": "complex64", "shape": [2], "offset": 0, "nbytes": 16}],
      "root": {"t": "tensor", "i": 0}}, bytes(16)),
    ({"format": "gdcore.save", "tensors": [], "root": {"t": "dict", "items": [[{"t": "list", "items": []}, {"t": "none"}]]}}, b""),
    ({"format": "gdcore.save", "tensors": [], "root": {"t": "int", "v": "12"}}, b""),
])
def test_malformed_contents_with_a_valid_checksum(tmp_path, header, payload):
    path = tmp_path / "forged.gdc"
    _forge(path, header, payload)
    assert "malformed contents" in _load_error(path)


def test_forged_file_is_read_the_documented_way(tmp_path):
    path = tmp_path / "forged.gdc"
    values = np.array([1.5, -2.0], dtype="<f8")
    header = {"format": "gdcore.save", "tensors": [{"dtype": "float64", "shape": [2], "offset": 0, "nbytes": 16}],
              "root": {"t": "dict", "items": [[{"t": "str", "v": "x"}, {"t": "tensor", "i": 0}]]}}
    _forge(path, header, values.tobytes())
    _same_tensor(gdcore.load(path)["x"], values)


# ---- atomic writes ------------------------------------------------------------------------------

class _Interrupted(BaseException):
    pass


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), _Interrupted()])
def test_error_mid_write_keeps_the_old_file(saved, monkeypatch, failure):
    before = saved.read_bytes()

    def failing_write(out, array, digest):
        out.write(b"partial")
        raise failure

    monkeypatch.setattr(serialization, "_write_array", failing_write)
    with pytest.raises(type(failure)):
        gdcore.save({"w": gdcore.zeros(5)}, saved)
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == [saved.name]  # the temporary file was removed
    assert gdcore.load(saved)["step"] == 3


CHILD = r"""
import sys, time
import gdcore
from gdcore import serialization

def stalled_write(out, array, digest):
    # Write half of the tensor, make sure it reached the file, then hang until killed.
    raw = array.reshape(-1).view("uint8")
    out.write(raw[: len(raw) // 2].tobytes())
    out.flush()
    print("half written", flush=True)
    time.sleep(60)

serialization._write_array = stalled_write
gdcore.save({"w": gdcore.ones(500, 100), "step": 4}, sys.argv[1])
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_sigkill_mid_save_keeps_the_old_file(saved):
    before = saved.read_bytes()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [PYTHON_DIR, os.environ.get("PYTHONPATH")])))
    with subprocess.Popen([sys.executable, "-c", CHILD, str(saved)], stdout=subprocess.PIPE, env=env) as child:
        ready, _, _ = select.select([child.stdout], [], [], 30)
        line = child.stdout.readline() if ready else b""
        temporaries = [p for p in saved.parent.iterdir() if p.name.endswith(".tmp")]
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert line == b"half written\n", "the child did not reach the middle of its save"
    assert child.returncode == -signal.SIGKILL
    assert len(temporaries) == 1 and temporaries[0].name.startswith(".good.gdc.")
    assert temporaries[0].stat().st_size > 60  # the kill really landed mid-write
    assert saved.read_bytes() == before
    loaded = gdcore.load(saved)
    assert loaded["step"] == 3 and loaded["w"].tolist()[9] == [float(v) for v in range(90, 100)]


def test_overwrite_keeps_permissions_and_follows_symlinks(tmp_path):
    target = tmp_path / "model.gdc"
    gdcore.save(1, target)
    os.chmod(target, 0o640)
    gdcore.save(2, target)
    assert gdcore.load(target) == 2 and (os.stat(target).st_mode & 0o777) == 0o640
    link = tmp_path / "latest.gdc"
    link.symlink_to(target)
    gdcore.save(3, link)
    assert link.is_symlink() and gdcore.load(target) == 3
