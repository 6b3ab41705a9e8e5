"""gdcore.safetensors: round trips for every dtype gdcore has (with metadata), files written by the safetensors
package's own numpy API (as PyTorch's would be), a model's state_dict through a file, dtypes gdcore lacks and
corrupt headers refused with clear errors, atomic writes. No torch here: the numpy API stands in for it."""
from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest

import gdcore
from gdcore import nn

safetensors = pytest.importorskip("safetensors")
import safetensors.numpy as st_numpy  # noqa: E402

from gdcore.safetensors import SafetensorsError, load, load_file, save, save_file  # noqa: E402


def _tensors():
    gdcore.manual_seed(0)
    return {"w32": gdcore.randn(3, 4), "w64": gdcore.randn(2, 5, dtype=gdcore.float64),
            "idx": gdcore.tensor([[1, -2], [2**62, 7]]), "scalar": gdcore.tensor(2.5, dtype=gdcore.float64),
            "empty": gdcore.zeros(0, 3), "view": gdcore.arange(12.0).reshape(3, 4).t()}


def _same(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for key in a:
        assert a[key].dtype == b[key].dtype and tuple(a[key].shape) == tuple(b[key].shape), key
        assert a[key].detach().numpy().tobytes() == b[key].detach().numpy().tobytes(), key


def test_round_trip_every_dtype_with_metadata(tmp_path):
    tensors = _tensors()
    path = tmp_path / "t.safetensors"
    save_file(tensors, path, metadata={"format": "pt", "note": "gdcore"})
    _same(tensors, load_file(path))
    _same(tensors, load(save(tensors)))
    with safetensors.safe_open(str(path), framework="np") as f:   # the package reads our metadata
        assert f.metadata() == {"format": "pt", "note": "gdcore"}
    # the package's numpy API reads the same values and dtypes we wrote
    arrays = st_numpy.load_file(str(path))
    for key, t in tensors.items():
        np.testing.assert_array_equal(arrays[key], t.numpy())
        assert arrays[key].dtype == t.numpy().dtype
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_a_file_written_by_the_package_numpy_api_is_read(tmp_path):
    rng = np.random.default_rng(1)
    arrays = {"a": rng.normal(size=(4, 3)).astype(np.float32), "b": rng.normal(size=7),
              "c": np.arange(6, dtype=np.int64).reshape(2, 3)}
    path = tmp_path / "np.safetensors"
    st_numpy.save_file(arrays, str(path), metadata={"k": "v"})
    loaded = load_file(path)
    for key, array in arrays.items():
        assert loaded[key].numpy().tobytes() == array.tobytes() and loaded[key].numpy().dtype == array.dtype
    loaded["a"].add_(1.0)   # loaded tensors are ordinary, writable tensors


def test_a_state_dict_written_elsewhere_loads_into_the_model_and_gives_the_same_outputs(tmp_path):
    # Weights as PyTorch's Linear would store them (weight (out, in), bias (out,)), written by the package.
    rng = np.random.default_rng(2)
    weights = {"0.weight": rng.normal(size=(5, 3)).astype(np.float32), "0.bias": rng.normal(size=5).astype(np.float32),
               "2.weight": rng.normal(size=(1, 5)).astype(np.float32), "2.bias": rng.normal(size=1).astype(np.float32)}
    path = tmp_path / "model.safetensors"
    st_numpy.save_file(weights, str(path))
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
    model.load_state_dict(load_file(path))
    x = rng.normal(size=(8, 3)).astype(np.float32)
    with gdcore.no_grad():
        out = model(gdcore.from_numpy(x)).numpy()
    expected = np.tanh(x @ weights["0.weight"].T + weights["0.bias"]) @ weights["2.weight"].T + weights["2.bias"]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    # and back: the model's state_dict written by gdcore is read bit for bit by the package
    save_file(model.state_dict(), path)
    back = st_numpy.load_file(str(path))
    for key, array in weights.items():
        assert back[key].tobytes() == array.tobytes()


@pytest.mark.parametrize("dtype, code, name", [(np.float16, "F16", "float16"), (np.int32, "I32", "int32"),
                                               (np.uint8, "U8", "uint8"), (np.bool_, "BOOL", "bool")])
def test_dtypes_gdcore_lacks_are_refused_naming_dtype_and_key(tmp_path, dtype, code, name):
    path = tmp_path / "h.safetensors"
    st_numpy.save_file({"ok": np.zeros(2, np.float32), "layer.weight": np.zeros((2, 2), dtype)}, str(path))
    with pytest.raises(SafetensorsError, match=rf"tensor 'layer.weight' has dtype {code} \({name}\)"):
        load_file(path)


def test_bfloat16_headers_are_refused_naming_dtype_and_key():
    # numpy has no bfloat16: write the file by hand, as torch would.
    header = json.dumps({"emb": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    data = struct.pack("<Q", len(header)) + header + bytes(4)
    with pytest.raises(SafetensorsError, match=r"tensor 'emb' has dtype BF16 \(bfloat16\)"):
        load(data)


def _file(header: dict, payload: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + payload


@pytest.mark.parametrize("data, words", [
    (b"", "too short"),
    (struct.pack("<Q", 2**63) + b"{}", "header length 9223372036854775808 is more than the 2 bytes"),
    (struct.pack("<Q", 5) + b"{}", "more than the 2 bytes"),
    (struct.pack("<Q", 2) + b"[]", "not an object"),
    (struct.pack("<Q", 3) + b"{x}", "not valid JSON"),
    (_file({"a": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 8]}}, bytes(8)), "needs"),
    (_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 2**50]}}, bytes(8)), "outside the 8 data bytes"),
    (_file({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, bytes(4)), "invalid shape"),
    (_file({"a": {"dtype": "Q9", "shape": [1], "data_offsets": [0, 4]}}, bytes(4)), "unknown dtype 'Q9'"),
    (_file({"a": {"shape": [1]}}, bytes(4)), "lacks dtype, shape or data_offsets"),
    (_file({"__metadata__": {"k": 1}}), "__metadata__ must map strings to strings"),
    (_file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
            "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, bytes(4)), "safetensors.load"),
])
def test_corrupt_headers_are_rejected_with_a_clear_error(tmp_path, data, words):
    with pytest.raises(SafetensorsError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load(data)
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    with pytest.raises(SafetensorsError):
        load_file(path)


def test_bad_arguments_and_atomic_writes(tmp_path):
    path = tmp_path / "keep.safetensors"
    save_file({"a": gdcore.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"tensors\['b'\] is a list, not a gdcore Tensor"):
        save_file({"a": gdcore.ones(2), "b": [1.0]}, path)
    with pytest.raises(TypeError, match="metadata must be a dict from str to str"):
        save_file({"a": gdcore.ones(2)}, path, metadata={"n": 1})
    with pytest.raises(TypeError, match="tensors must be a dict"):
        save([gdcore.ones(2)])
    with pytest.raises(TypeError, match="data must be bytes"):
        load("a.safetensors")
    with pytest.raises(FileNotFoundError):
        load_file(tmp_path / "missing.safetensors")
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["keep.safetensors"]
