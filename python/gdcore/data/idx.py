"""The IDX file format (MNIST, Fashion-MNIST), plain or gzip-compressed: one reader.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dims), one
big-endian uint32 per dim, then the values, big-endian, row-major. ``read_idx`` checks every
size in the header against the length of the data before it allocates anything (for a gzip
file the length is the uncompressed size recorded in its trailer, checked again while reading),
so a truncated, padded or corrupt file is reported, naming the file and what is wrong, instead of
being read as garbage or exhausting memory.
"""
from __future__ import annotations

import gzip
import os
import struct
import zlib
import numpy as np

__all__ = ["IDXError", "read_idx", "write_idx"]

# type code -> numpy dtype (big-endian, as stored)
_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_GZIP_MAGIC = b"\x1f\x8b"
_MAX_DEFLATE_RATIO = 1032


class IDXError(ValueError):
    """An IDX file is malformed: wrong magic number, sizes that disagree with its length, bad gzip data."""


def _gzip_length(path: str) -> int:
    """The uncompressed length (mod 2**32) stored in a gzip file's last four bytes."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() < 18:  # 10-byte header + 8-byte trailer at the least
            raise IDXError(f"{path}: gzip file of {f.tell()} bytes is truncated (too short for a gzip stream)")
        f.seek(-4, os.SEEK_END)
        return struct.unpack("<I", f.read(4))[0]


def _header(raw: bytes, path: str) -> np.dtype:
    if len(raw) < 4:
        raise IDXError(f"{path}: file of {len(raw)} bytes is too short for an IDX header (4-byte magic number)")
    zero, code, ndim = raw[:2], raw[2], raw[3]
    if zero != b"\x00\x00" or code not in _TYPES or ndim == 0:
        raise IDXError(f"{path}: wrong magic number 0x{raw[:4].hex()}: an IDX file starts with 0x0000, a type "
                       f"code ({', '.join(hex(c) for c in _TYPES)}) and a number of dims >= 1 (MNIST images have "
                       "0x00000803, labels 0x00000801); this is not an IDX file")
    return _TYPES[code]


def read_idx(path) -> np.ndarray:
    """The array stored in the IDX file ``path`` (gzip-compressed or not, told by its first bytes),
    in native byte order, with the shape its header gives. Raises IDXError naming the file and
    the problem when the file is malformed."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        compressed = f.read(2) == _GZIP_MAGIC
    if compressed:
        length = _gzip_length(path)
        opener = gzip.open
    else:
        length = os.path.getsize(path)
        opener = open
    try:
        with opener(path, "rb") as f:
            head = f.read(4)
            dtype = _header(head, path)
            ndim = head[3]
            dims_raw = f.read(4 * ndim)
            if len(dims_raw) != 4 * ndim:
                raise IDXError(f"{path}: truncated header: {ndim} dims need {4 * ndim} bytes of sizes, found "
                               f"{len(dims_raw)}")
            shape = struct.unpack(f">{ndim}I", dims_raw)
            header_bytes = 4 + 4 * ndim
            expected = header_bytes + int(np.prod(shape, dtype=object)) * dtype.itemsize
            # The check before allocating: the header's sizes must account for exactly the file's length. (A
            # gzip trailer holds the length mod 2**32; deflate cannot shrink data more than 1032:1, which bounds
            # the rest.)
            too_big = compressed and expected > _MAX_DEFLATE_RATIO * os.path.getsize(path) + 1024
            if too_big or (expected % (1 << 32) if compressed else expected) != length:
                what = "uncompressed length recorded in its gzip trailer" if compressed else "length"
                raise IDXError(f"{path}: the header says shape {tuple(shape)} of {dtype.newbyteorder('=').name} "
                               f"({expected} bytes with the header) but the file's {what} is {length} bytes: "
                               "the file is truncated or corrupt; delete it and download it again")
            data = f.read(expected - header_bytes)
            if len(data) != expected - header_bytes or f.read(1):
                raise IDXError(f"{path}: expected {expected - header_bytes} bytes of data after the header, the "
                               f"file holds {len(data)}{' or more' if len(data) == expected - header_bytes else ''}: "
                               "it is truncated or corrupt; delete it and download it again")
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise IDXError(f"{path}: corrupt gzip data ({error}); delete the file and download it again") from error
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array: np.ndarray, compress: bool = None) -> None:
    """Writes ``array`` (uint8, int8, int16, int32, float32 or float64; at least 1-d) as an IDX
    file; gzip-compressed when ``compress`` (default: when the name ends in .gz)."""
    path = os.fspath(path)
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _TYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes or array.ndim == 0:
        raise ValueError(f"write_idx: cannot store an array of dtype {array.dtype} and {array.ndim} dims in IDX")
    body = struct.pack(">BBBB", 0, 0, codes[native], array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    body += np.ascontiguousarray(array, dtype=_TYPES[codes[native]]).tobytes()
    if compress is None:
        compress = path.endswith(".gz")
    with open(path, "wb") as f:
        f.write(gzip.compress(body, mtime=0) if compress else body)
