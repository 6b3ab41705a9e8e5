"""gdcore.save / gdcore.load: tensors and nested containers in a file that never runs code.

A save file is a fixed 60-byte prefix, a UTF-8 JSON header, then the payload of raw
little-endian tensor bytes (each tensor contiguous, starting at a file offset that is
a multiple of 64, so the file could be memory-mapped):

    magic b"\\x89GDCORE\\n" | u32 format version | u64 header length | u64 payload length
    | 32-byte SHA-256 of header + payload | header JSON | payload

The header describes every tensor (dtype, shape, offset, byte count, requires_grad)
and the object tree, each node tagged with its type, so loading only ever builds
tensors, dicts, lists, tuples, ints, floats (stored as float.hex, so bit-exact),
strings, bools and None; nothing is unpickled or evaluated. A tensor that appears
several times in the object is stored once and loads as one shared tensor.

Writes are atomic: the file is written under a temporary name in the target's folder,
fsynced, then renamed over the target, so an error or a kill mid-save leaves the
previous file as it was. Loading checks the magic, version, length and checksum before
interpreting anything, and explains what is wrong with a truncated, corrupt or foreign
file (SaveFileError, a ValueError).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from collections import OrderedDict
from typing import Any

import numpy as np

from ._core import Tensor
from ._version import __version__
from .atomic_write import write_atomically
from .creation import from_numpy, zeros

__all__ = ["save", "load", "SaveFileError", "MAGIC", "FORMAT_VERSION"]

MAGIC = b"\x89GDCORE\n"  # a non-ASCII first byte and a newline catch text-mode mangling, as PNG's magic does
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sIQQ32s")  # magic, version, header length, payload length, SHA-256
_ALIGN = 64
_CHUNK = 8 << 20  # bytes per write/read/hash step, so huge tensors need no second copy
_DTYPES = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8"), "int64": np.dtype("<i8"), "bool": np.dtype("?"),
           "int32": np.dtype("<i4"), "uint8": np.dtype("u1"), "int8": np.dtype("i1"), "int16": np.dtype("<i2")}
_STORABLE = "tensors, dicts, lists, tuples, ints, floats, strings, bools and None"


class SaveFileError(ValueError):
    """A file that gdcore.load cannot read: not a gdcore save file, truncated, or corrupt."""


# ---------------------------------------------------------------- encoding (save side)

class _Encoder:
    """Turns an object tree into a JSON-able tree plus the list of arrays to write."""

    def __init__(self) -> None:
        self.tensors: list[dict] = []
        self.arrays: list[np.ndarray] = []
        self.payload_length = 0
        self._tensor_index: dict[int, int] = {}
        self._open_containers: set[int] = set()

    def encode(self, obj: Any, where: str) -> Any:
        if obj is None:
            return {"t": "none"}
        if isinstance(obj, (bool, np.bool_)):
            return {"t": "bool", "v": bool(obj)}
        if isinstance(obj, (int, np.integer)):
            return {"t": "int", "v": int(obj)}
        if isinstance(obj, (float, np.floating)):
            return {"t": "float", "v": float(obj).hex()}
        if isinstance(obj, str):
            return {"t": "str", "v": obj}
        if isinstance(obj, Tensor):
            return {"t": "tensor", "i": self._tensor(obj)}
        if isinstance(obj, (dict, list, tuple)):
            return self._container(obj, where)
        raise TypeError(f"save: cannot store a {type(obj).__name__} at {where}; gdcore.save stores {_STORABLE} "
                        "(convert numpy arrays with gdcore.from_numpy)")

    def _container(self, obj, where: str) -> dict:
        if id(obj) in self._open_containers:
            raise ValueError(f"save: {where} contains itself (a reference cycle); gdcore.save stores trees only")
        self._open_containers.add(id(obj))
        try:
            if isinstance(obj, dict):
                items = [[self._key(k, where), self.encode(v, f"{where}[{k!r}]")] for k, v in obj.items()]
                return {"t": "odict" if isinstance(obj, OrderedDict) else "dict", "items": items}
            kind = "tuple" if isinstance(obj, tuple) else "list"
            return {"t": kind, "items": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        finally:
            self._open_containers.discard(id(obj))

    def _key(self, key, where: str):
        if isinstance(key, tuple):
            return {"t": "tuple", "items": [self._key(k, where) for k in key]}
        if key is None or isinstance(key, (bool, int, float, str, np.integer, np.floating, np.bool_)):
            return self.encode(key, where)
        raise TypeError(f"save: cannot store the dict key {key!r} (a {type(key).__name__}) in {where}; keys must be "
                        "strings, numbers, bools, None or tuples of them")

    def _tensor(self, t: Tensor) -> int:
        if id(t) in self._tensor_index:
            return self._tensor_index[id(t)]
        values = t.detach().numpy()
        # astype, not ascontiguousarray, which would turn a 0-d array into shape (1,).
        array = values.astype(values.dtype.newbyteorder("<"), order="C", copy=False)
        self.payload_length += -self.payload_length % _ALIGN
        self.tensors.append({"dtype": array.dtype.name, "shape": list(array.shape), "offset": self.payload_length,
                             "nbytes": array.nbytes, "requires_grad": bool(t.requires_grad)})
        self.arrays.append(array)
        self.payload_length += array.nbytes
        self._tensor_index[id(t)] = len(self.tensors) - 1
        return len(self.tensors) - 1


def _write_array(out, array: np.ndarray, digest) -> None:
    """Write one contiguous array's bytes (in chunks) and feed them to the checksum."""
    raw = memoryview(array.reshape(-1).view(np.uint8))
    for start in range(0, len(raw), _CHUNK):
        chunk = raw[start:start + _CHUNK]
        digest.update(chunk)
        out.write(chunk)


def _write(out, header: bytes, encoder: _Encoder) -> None:
    out.write(bytes(_PREFIX.size))  # placeholder: the checksum is known only at the end
    digest = hashlib.sha256(header)
    out.write(header)
    position = 0
    for entry, array in zip(encoder.tensors, encoder.arrays):
        padding = bytes(entry["offset"] - position)
        digest.update(padding)
        out.write(padding)
        _write_array(out, array, digest)
        position = entry["offset"] + entry["nbytes"]
    out.seek(0)
    out.write(_PREFIX.pack(MAGIC, FORMAT_VERSION, len(header), encoder.payload_length, digest.digest()))


def _path(f, who: str) -> str:
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"{who}: expected a file path (str or os.PathLike), got a {type(f).__name__}; file objects "
                        "are not supported because gdcore.save replaces files atomically")
    return os.fspath(f)


def save(obj: Any, f) -> None:
    """Write ``obj`` to the file ``f``: a tensor, or dicts/lists/tuples nesting tensors and
    ints, floats, strings, bools and None (e.g. ``model.state_dict()``).

    Tensors keep dtype, shape, values (bit for bit) and requires_grad; views are stored
    as their values. The write is atomic: on any error, or if the process dies, an
    existing file at ``f`` is left unchanged (a killed process may leave a hidden
    ``.<name>.<pid>.<random>.tmp`` file beside it, which is safe to delete).
    """
    target = _path(f, "save")
    if os.path.islink(target):
        target = os.path.realpath(target)  # update the file the link points to, keep the link
    encoder = _Encoder()
    try:
        root = encoder.encode(obj, "obj")
    except RecursionError:
        raise ValueError("save: obj is nested too deeply to store") from None
    header = json.dumps({"format": "gdcore.save", "gdcore_version": __version__, "tensors": encoder.tensors,
                         "root": root}, separators=(",", ":")).encode("utf-8")
    header += b" " * (-(_PREFIX.size + len(header)) % _ALIGN)  # JSON allows trailing spaces; aligns the payload
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: the folder {folder!r} does not exist; create it first (os.makedirs)")
    if os.path.isdir(target):
        raise IsADirectoryError(f"save: {target!r} is a directory; pass a file name such as {target!r}/model.gdc")

    def write(path: str) -> None:
        with open(path, "wb") as out:
            _write(out, header, encoder)

    write_atomically(target, write)


# ---------------------------------------------------------------- decoding (load side)

def _foreign(path: str, start: bytes) -> SaveFileError:
    if not start:
        return SaveFileError(f"load: {path!r} is empty (0 bytes), not a gdcore save file; was the save interrupted "
                             "before gdcore wrote it atomically, or is this the wrong file?")
    if start.startswith(b"PK\x03\x04"):
        kind = "a zip archive (PyTorch's torch.save writes these)"
    elif start[:1] == b"\x80" and start[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        kind = "a Python pickle"
    elif start.startswith(b"\x93NUMPY"):
        kind = "a numpy .npy file (read it with numpy.load and gdcore.from_numpy)"
    else:
        kind = f"not a gdcore save file (it starts with {start[:8]!r})"
    return SaveFileError(f"load: {path!r} is {kind}; gdcore.load reads only files written by gdcore.save, whose "
                         f"first bytes are {MAGIC!r}. It never unpickles, since that can run arbitrary code.")


def _read_prefix(path: str, handle, size: int):
    start = handle.read(_PREFIX.size)
    if not start.startswith(MAGIC):
        raise _foreign(path, start)
    if len(start) < _PREFIX.size:
        raise SaveFileError(f"load: {path!r} is truncated: it has {size} bytes, fewer than the {_PREFIX.size}-byte "
                            "header of a gdcore save file")
    _, version, header_length, payload_length, checksum = _PREFIX.unpack(start)
    if version != FORMAT_VERSION:
        advice = "upgrade gdcore to read it" if version > FORMAT_VERSION else "the file is corrupt"
        raise SaveFileError(f"load: {path!r} has format version {version}, but this gdcore (version {__version__}) "
                            f"reads version {FORMAT_VERSION}; {advice}")
    expected = _PREFIX.size + header_length + payload_length
    if size < expected:
        raise SaveFileError(f"load: {path!r} is truncated: it has {size} bytes but its header says {expected}; "
                            "the file was cut short (an interrupted copy or download?). Use an intact copy.")
    if size > expected:
        raise SaveFileError(f"load: {path!r} is corrupt: it has {size - expected} unexpected bytes after the "
                            f"{expected} its header accounts for")
    return header_length, payload_length, checksum


def _check_checksum(path: str, handle, expected: bytes, length: int) -> None:
    digest = hashlib.sha256()
    while length > 0:  # reads of at most the bytes left: a small file never costs an 8 MB buffer
        block = handle.read(min(_CHUNK, length))
        if not block:
            break
        digest.update(block)
        length -= len(block)
    if digest.digest() != expected:
        raise SaveFileError(f"load: {path!r} is corrupt: its SHA-256 checksum is {digest.hexdigest()}, but the file "
                            f"records {expected.hex()}; its bytes were changed after saving. Use an intact copy.")


class _Decoder:
    """Rebuilds the object tree from the (already checksum-verified) header, reading tensors on demand."""

    def __init__(self, path: str, handle, header: dict, payload_start: int, payload_length: int) -> None:
        self.path, self.handle = path, handle
        self.entries = header["tensors"]
        self.payload_start, self.payload_length = payload_start, payload_length
        self.loaded: dict[int, Tensor] = {}

    def decode(self, node) -> Any:
        kind = node["t"]
        if kind == "none":
            return None
        if kind in ("bool", "int", "str"):
            value = node["v"]
            if type(value) is not {"bool": bool, "int": int, "str": str}[kind]:
                raise TypeError(f"a {kind} node holds {value!r}")
            return value
        if kind == "float":
            return float.fromhex(node["v"])
        if kind == "tensor":
            return self._tensor(node["i"])
        if kind in ("list", "tuple"):
            items = [self.decode(item) for item in node["items"]]
            return tuple(items) if kind == "tuple" else items
        if kind in ("dict", "odict"):
            pairs = [(self.decode(key), self.decode(value)) for key, value in node["items"]]
            return OrderedDict(pairs) if kind == "odict" else dict(pairs)
        raise TypeError(f"unknown node type {kind!r}")

    def _tensor(self, index: int) -> Tensor:
        if index in self.loaded:
            return self.loaded[index]
        entry = self.entries[index]
        dtype = _DTYPES[entry["dtype"]]
        shape = [int(s) for s in entry["shape"]]
        offset, nbytes = int(entry["offset"]), int(entry["nbytes"])
        if any(s < 0 for s in shape) or math.prod(shape) * dtype.itemsize != nbytes:
            raise ValueError(f"tensor {index}: shape {shape} of {entry['dtype']} does not take {nbytes} bytes")
        if offset < 0 or offset + nbytes > self.payload_length:
            raise ValueError(f"tensor {index}: bytes {offset}..{offset + nbytes} lie outside the payload")
        if nbytes == 0:  # numpy gives empty arrays zero strides; gdcore.zeros gives the usual row-major ones
            result = zeros(shape, dtype=entry["dtype"])
        else:
            array = np.empty(shape, dtype=dtype)
            self.handle.seek(self.payload_start + offset)
            if self.handle.readinto(memoryview(array.reshape(-1).view(np.uint8))) != nbytes:
                raise ValueError(f"tensor {index}: the file ended inside its bytes")
            if array.dtype == np.bool_ and array.size and array.view(np.uint8).max() > 1:
                raise ValueError(f"tensor {index}: a bool tensor holds bytes other than 0 and 1")
            result = from_numpy(array)  # on a big-endian machine this converts to native order
        if entry.get("requires_grad") and result.is_floating_point():
            result.requires_grad_(True)
        self.loaded[index] = result
        return result


def load(f) -> Any:
    """Read an object written by ``gdcore.save``: the same nesting of containers, with
    tensors of the same dtype, shape and bit-identical values.

    Raises FileNotFoundError for a missing file and SaveFileError (a ValueError) for a
    file that is not a gdcore save file, is truncated or is corrupt; nothing in the
    file is ever executed.
    """
    path = _path(f, "load")
    if os.path.isdir(path):
        raise IsADirectoryError(f"load: {path!r} is a directory; pass the path of a file written by gdcore.save")
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        header_length, payload_length, checksum = _read_prefix(path, handle, size)
        _check_checksum(path, handle, checksum, header_length + payload_length)
        handle.seek(_PREFIX.size)
        try:
            header = json.loads(handle.read(header_length).decode("utf-8"))
            if not isinstance(header, dict) or header.get("format") != "gdcore.save":
                raise ValueError("the header is not a gdcore.save header")
            decoder = _Decoder(path, handle, header, _PREFIX.size + header_length, payload_length)
            return decoder.decode(header["root"])
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError, OverflowError) as error:
            raise SaveFileError(f"load: {path!r} has a valid checksum but malformed contents ({type(error).__name__}: "
                                f"{error}); it was not written by a compatible gdcore.save") from None
