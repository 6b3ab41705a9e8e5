"""gdcore.safetensors: read and write the safetensors files PyTorch and Hugging Face keep weights in, with
the names of ``safetensors.torch`` (``save_file``, ``load_file``, ``save``, ``load``), so
``from safetensors.torch import save_file, load_file`` ports by changing the import.

The format itself is the ``safetensors`` package's (its numpy API, over zero-copy views): an 8-byte
little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}},
then the raw little-endian bytes. This module adds what gdcore's file readers promise: the header is
checked here against the file's length (and every tensor's byte range against the data that follows)
before anything is allocated, so a hostile or truncated file gives a SafetensorsError (a ValueError)
naming what is wrong, and files in dtypes gdcore does not hold (float16, bfloat16, int32, ...) are refused
naming the dtype and the tensor. Writes are atomic, as gdcore.save's: a temporary file in the target's
folder, fsynced, then renamed over the target.

The package is an optional dependency: ``pip install gdcore[safetensors]`` (or ``pip install safetensors``).
"""
from __future__ import annotations

import json
import math
import os
import struct
from typing import Any, Optional

import numpy as np

from ._core import Tensor
from .atomic_write import write_atomically
from .creation import from_numpy, zeros

__all__ = ["SafetensorsError", "save", "save_file", "load", "load_file"]

# safetensors dtype codes gdcore holds, and the item size of every code the format defines (to check sizes).
_TO_GDCORE = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8")}
_FROM_NUMPY = {"float32": "F32", "float64": "F64", "int64": "I64"}
_ITEMSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
             "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8, "C64": 8}
_NAMES = {"F16": "float16", "BF16": "bfloat16", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8",
          "BOOL": "bool", "U16": "uint16", "U32": "uint32", "U64": "uint64", "F8_E5M2": "float8_e5m2",
          "F8_E4M3": "float8_e4m3", "C64": "complex64"}
_MAX_HEADER = 100 * 1000 * 1000  # the safetensors package refuses larger headers too


class SafetensorsError(ValueError):
    """A file or buffer that is not a valid safetensors file, or holds a dtype gdcore does not have."""


def _package():
    try:
        import safetensors.numpy
    except ImportError:
        raise ImportError("gdcore.safetensors needs the safetensors package: pip install gdcore[safetensors] "
                          "(or pip install safetensors)") from None
    return safetensors


# ---------------------------------------------------------------- writing

def _arrays(tensors: Any, who: str) -> dict:
    if not isinstance(tensors, dict):
        raise TypeError(f"{who}: tensors must be a dict from names (str) to gdcore tensors, got "
                        f"{type(tensors).__name__}; for a model pass model.state_dict()")
    arrays = {}
    for name, t in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"{who}: every key must be a str, got {name!r} ({type(name).__name__})")
        if name == "__metadata__":
            raise ValueError(f"{who}: the name '__metadata__' is reserved by the format; rename that tensor")
        if not isinstance(t, Tensor):
            raise TypeError(f"{who}: tensors[{name!r}] is a {type(t).__name__}, not a gdcore Tensor")
        values = t.detach().numpy()
        # astype, not ascontiguousarray, which would turn a 0-d array into shape (1,).
        arrays[name] = values.astype(values.dtype.newbyteorder("<"), order="C", copy=False)
    return arrays


def _metadata(metadata: Any, who: str) -> Optional[dict]:
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in metadata.items()):
        raise TypeError(f"{who}: metadata must be a dict from str to str (the format stores text only), "
                        f"got {metadata!r}")
    return dict(metadata)


def save(tensors: dict, metadata: Optional[dict] = None) -> bytes:
    """The safetensors file of ``tensors`` ({name: Tensor}) as bytes, with optional ``metadata`` ({str: str})."""
    arrays, meta = _arrays(tensors, "safetensors.save"), _metadata(metadata, "safetensors.save")
    return bytes(_package().numpy.save(arrays, metadata=meta))


def save_file(tensors: dict, filename: Any, metadata: Optional[dict] = None) -> None:
    """Write ``tensors`` ({name: Tensor}, e.g. ``model.state_dict()``) to the safetensors file ``filename``,
    atomically: on any error, or if the process dies, an existing file there is left unchanged."""
    arrays, meta = _arrays(tensors, "safetensors.save_file"), _metadata(metadata, "safetensors.save_file")
    if not isinstance(filename, (str, os.PathLike)):
        raise TypeError(f"safetensors.save_file: filename must be a path (str or os.PathLike), got "
                        f"{type(filename).__name__}")
    target = os.path.realpath(os.fspath(filename))
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"safetensors.save_file: the folder {folder!r} does not exist; create it first")
    if os.path.isdir(target):
        raise IsADirectoryError(f"safetensors.save_file: {target!r} is a directory; pass a file name")
    write_atomically(target, lambda path: _package().numpy.save_file(arrays, path, metadata=meta))


# ---------------------------------------------------------------- reading

def _check_header(header_bytes: bytes, data_length: int, where: str) -> dict:
    """Parse and check the JSON header against the ``data_length`` bytes after it; return it."""
    try:
        header = json.loads(header_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise SafetensorsError(f"{where}: the header is not valid JSON ({err}); the file is corrupt or not a "
                               "safetensors file") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{where}: the header is a JSON {type(header).__name__}, not an object")
    meta = header.get("__metadata__")
    if meta is not None and not (isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())):
        raise SafetensorsError(f"{where}: __metadata__ must map strings to strings, got {str(meta)[:100]}")
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
            raise SafetensorsError(f"{where}: the entry of tensor {name!r} lacks dtype, shape or data_offsets")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if not isinstance(dtype, str) or dtype not in _ITEMSIZE:
            raise SafetensorsError(f"{where}: tensor {name!r} has unknown dtype {dtype!r}")
        if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
            raise SafetensorsError(f"{where}: tensor {name!r} has an invalid shape {str(shape)[:100]}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)
                and 0 <= offsets[0] <= offsets[1] <= data_length):
            raise SafetensorsError(f"{where}: tensor {name!r} has data_offsets {str(offsets)[:100]} outside the "
                                   f"{data_length} data bytes of the file (truncated or corrupt)")
        if math.prod(shape) * _ITEMSIZE[dtype] != offsets[1] - offsets[0]:
            raise SafetensorsError(f"{where}: tensor {name!r} of shape {tuple(shape)} and dtype {dtype} needs "
                                   f"{math.prod(shape) * _ITEMSIZE[dtype]} bytes, but data_offsets give "
                                   f"{offsets[1] - offsets[0]}")
    for name, entry in header.items():
        if name != "__metadata__" and entry["dtype"] not in _TO_GDCORE:
            dtype = entry["dtype"]
            raise SafetensorsError(f"{where}: tensor {name!r} has dtype {dtype} ({_NAMES.get(dtype, dtype)}), which "
                                   "gdcore does not have; it holds F32, F64 and I64 (float32, float64, int64). "
                                   "Convert the file first, e.g. with numpy: arr.astype(np.float32)")
    return header


def _header_length(prefix: bytes, size: int, where: str) -> int:
    if len(prefix) < 8:
        raise SafetensorsError(f"{where}: {size} bytes is too short for a safetensors file (8-byte header "
                               "length first)")
    (length,) = struct.unpack("<Q", prefix[:8])
    if length > size - 8:
        raise SafetensorsError(f"{where}: the header length {length} is more than the {size - 8} bytes after "
                               "it; the file is truncated or not a safetensors file")
    if length > _MAX_HEADER:
        raise SafetensorsError(f"{where}: the header length {length} is over the format's limit of {_MAX_HEADER}")
    return length


def _to_tensors(arrays: dict) -> dict:
    out = {}
    for name, array in arrays.items():
        array = np.asarray(array).astype(array.dtype.newbyteorder("="), copy=False)
        out[name] = zeros(list(array.shape), dtype=array.dtype.name) if array.size == 0 else from_numpy(array)
    return out


def _decode(call, where: str) -> dict:
    package = _package()
    try:
        return _to_tensors(call(package))
    except package.SafetensorError as err:
        raise SafetensorsError(f"{where}: {err}") from None


def load(data: bytes) -> dict:
    """{name: Tensor} from the bytes of a safetensors file (float32, float64 and int64 tensors)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"safetensors.load: data must be bytes, got {type(data).__name__}; for a file use load_file")
    data = bytes(data)
    where = "safetensors.load"
    length = _header_length(data[:8], len(data), where)
    _check_header(data[8:8 + length], len(data) - 8 - length, where)
    return _decode(lambda package: package.numpy.load(data), where)


def load_file(filename: Any) -> dict:
    """{name: Tensor} from a safetensors file (e.g. ``model.load_state_dict(load_file(path))``).

    Raises FileNotFoundError for a missing file and SafetensorsError (a ValueError) for a truncated or
    corrupt file or one holding dtypes gdcore does not have (named with the tensor)."""
    if not isinstance(filename, (str, os.PathLike)):
        raise TypeError(f"safetensors.load_file: filename must be a path (str or os.PathLike), got "
                        f"{type(filename).__name__}")
    path = os.fspath(filename)
    where = f"safetensors.load_file: {path!r}"
    if os.path.isdir(path):
        raise IsADirectoryError(f"{where} is a directory; pass a .safetensors file")
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        length = _header_length(handle.read(8), size, where)
        _check_header(handle.read(length), size - 8 - length, where)
    return _decode(lambda package: package.numpy.load_file(path), where)
