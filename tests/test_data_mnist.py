"""The IDX reader (gdcore/data/idx.py) and MNIST / FashionMNIST (gdcore/data/mnist.py).

The tests build small IDX files themselves (the header and bytes written out with struct and
gzip here, not with gdcore's writer, except where the writer itself is checked) and serve them
from a local http.server on 127.0.0.1 that each download test starts and stops; nothing touches
the internet.
"""
import contextlib
import functools
import gzip
import hashlib
import http.server
import os
import struct
import threading

import numpy as np
import pytest

import gdcore
from gdcore.data import MNIST, ChecksumError, FashionMNIST, IDXError, read_idx, write_idx

NAMES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz"]


def idx_bytes(array, code):
    """An IDX file by hand: 0x0000, type code, ndim, big-endian sizes, big-endian values."""
    head = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return head + array.astype(array.dtype.newbyteorder(">")).tobytes()


def make_set(folder, n_train=5, n_test=3, rows=28, cols=28, seed=0):
    """Writes the four gzip files into folder; returns the arrays and the files' SHA-256s."""
    rng = np.random.default_rng(seed)
    arrays = [rng.integers(0, 256, (n_train, rows, cols), dtype=np.uint8), rng.integers(0, 10, n_train, dtype=np.uint8),
              rng.integers(0, 256, (n_test, rows, cols), dtype=np.uint8), rng.integers(0, 10, n_test, dtype=np.uint8)]
    os.makedirs(folder, exist_ok=True)
    sums = []
    for name, array in zip(NAMES, arrays):
        data = gzip.compress(idx_bytes(array, 0x08))
        (folder / name).write_bytes(data)
        sums.append(hashlib.sha256(data).hexdigest())
    return arrays, sums


# ---- the reader --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype,code", [(np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B), (np.int32, 0x0C),
                                        (np.float32, 0x0D), (np.float64, 0x0E)])
@pytest.mark.parametrize("compressed", [False, True])
def test_read_idx_every_type_plain_and_gzip(tmp_path, dtype, code, compressed):
    array = (np.arange(24).reshape(2, 3, 4) - 7).astype(dtype)
    data = idx_bytes(array, code)
    path = tmp_path / "a.idx"
    path.write_bytes(gzip.compress(data) if compressed else data)
    got = read_idx(path)
    assert got.dtype == np.dtype(dtype) and got.shape == (2, 3, 4)
    np.testing.assert_array_equal(got, array)


def test_write_idx_round_trips_and_is_the_format(tmp_path):
    array = np.arange(12, dtype=np.int16).reshape(3, 4) * 300
    write_idx(tmp_path / "b.idx", array)
    assert (tmp_path / "b.idx").read_bytes() == idx_bytes(array, 0x0B)
    write_idx(tmp_path / "b.idx.gz", array)
    np.testing.assert_array_equal(read_idx(tmp_path / "b.idx.gz"), array)


def test_wrong_magic_number_names_the_file(tmp_path):
    path = tmp_path / "labels.idx"
    path.write_bytes(b"\x01\x02\x08\x01" + struct.pack(">I", 2) + b"\x00\x01")
    with pytest.raises(IDXError, match=r"labels\.idx: wrong magic number 0x01020801.*not an IDX file"):
        read_idx(path)
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(IDXError, match="wrong magic number"):
        read_idx(path)
    path.write_bytes(b"\x00\x00")
    with pytest.raises(IDXError, match="too short for an IDX header"):
        read_idx(path)


def test_truncated_and_padded_files_are_reported_before_reading(tmp_path):
    data = idx_bytes(np.zeros((4, 5, 5), np.uint8), 0x08)
    path = tmp_path / "images.idx"
    path.write_bytes(data[:-1])
    with pytest.raises(IDXError, match=r"images\.idx: the header says shape \(4, 5, 5\) of uint8 \(116 bytes with "
                                       r"the header\) but the file's length is 115 bytes"):
        read_idx(path)
    path.write_bytes(data + b"\x00")
    with pytest.raises(IDXError, match="length is 117 bytes"):
        read_idx(path)
    path.write_bytes(data[:10])  # cut inside the sizes
    with pytest.raises(IDXError, match="truncated header: 3 dims need 12 bytes"):
        read_idx(path)


def test_a_header_claiming_huge_sizes_is_refused_without_allocating(tmp_path):
    path = tmp_path / "huge.idx.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x03" + struct.pack(">3I", 2 ** 31, 2 ** 31, 2 ** 31) + b"\x00" * 8))
    with pytest.raises(IDXError, match="uncompressed length recorded in its gzip trailer is 24 bytes"):
        read_idx(path)


def test_corrupt_or_cut_gzip_data(tmp_path):
    good = gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8).reshape(2, 100), 0x08))
    path = tmp_path / "cut.gz"
    path.write_bytes(good[:-20] + good[-4:])  # stream cut short, trailer length kept
    with pytest.raises(IDXError, match=r"cut\.gz: corrupt gzip data"):
        read_idx(path)
    path.write_bytes(good[:12])
    with pytest.raises(IDXError, match="too short for a gzip stream"):
        read_idx(path)
    flipped = bytearray(good)
    flipped[20] ^= 0xFF
    path.write_bytes(bytes(flipped))
    with pytest.raises(IDXError, match="cut.gz"):
        read_idx(path)


# ---- the data sets -----------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [MNIST, FashionMNIST])
@pytest.mark.parametrize("layout", ["raw", "named", "flat"])
def test_reads_the_four_files_from_torchvisions_layout_or_a_plain_folder(tmp_path, cls, layout):
    folder = {"raw": tmp_path / cls.__name__ / "raw", "named": tmp_path / cls.__name__, "flat": tmp_path}[layout]
    arrays, _ = make_set(folder)
    train, test = cls(tmp_path), cls(tmp_path, train=False)
    assert len(train) == 5 and len(test) == 3
    assert train.data.dtype == gdcore.uint8 and tuple(train.data.shape) == (5, 28, 28)
    np.testing.assert_array_equal(train.data.numpy(), arrays[0])
    assert train.targets.dtype == gdcore.int64
    np.testing.assert_array_equal(test.targets.numpy(), arrays[3])
    image, label = train[2]
    assert image.dtype == gdcore.float32 and tuple(image.shape) == (1, 28, 28)
    np.testing.assert_allclose(image.numpy()[0], arrays[0][2] / 255.0, rtol=1e-6)
    assert label == int(arrays[1][2]) and isinstance(label, int)
    X, y = train.tensors()
    assert tuple(X.shape) == (5, 1, 28, 28) and float(X.numpy().max()) <= 1.0
    np.testing.assert_array_equal(y.numpy(), arrays[1])


def test_transforms_and_raw_images(tmp_path):
    arrays, _ = make_set(tmp_path)
    ds = FashionMNIST(tmp_path, transform=lambda x: x * 2.0, target_transform=lambda t: t + 100)
    image, label = ds[0]
    np.testing.assert_allclose(image.numpy()[0], arrays[0][0] / 255.0 * 2.0, rtol=1e-6)
    assert label == int(arrays[1][0]) + 100
    raw, _ = FashionMNIST(tmp_path, to_float=False)[1]
    assert raw.dtype == gdcore.uint8 and tuple(raw.shape) == (28, 28)
    np.testing.assert_array_equal(raw.numpy(), arrays[0][1])
    with pytest.raises(IndexError, match="index 5 is out of range for 5 images"):
        ds[5]
    assert FashionMNIST.classes[9] == "Ankle boot"


def test_missing_files_without_download_say_where_they_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"FashionMNIST: train-images-idx3-ubyte\.gz not found .*download=True"):
        FashionMNIST(tmp_path)


def test_mismatched_files_are_refused(tmp_path):
    make_set(tmp_path)
    (tmp_path / NAMES[1]).write_bytes(gzip.compress(idx_bytes(np.zeros(4, np.uint8), 0x08)))
    with pytest.raises(ValueError, match="4 labels for 5 images"):
        MNIST(tmp_path)


def test_a_truncated_file_names_itself(tmp_path):
    make_set(tmp_path)
    data = (tmp_path / NAMES[0]).read_bytes()
    (tmp_path / NAMES[0]).write_bytes(data[: len(data) // 2])
    with pytest.raises(IDXError, match="train-images-idx3-ubyte.gz"):
        MNIST(tmp_path)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serving(folder):
    """An HTTP server on 127.0.0.1 (a free port) serving ``folder``; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_download_fetches_checks_and_stores_the_four_files(tmp_path, monkeypatch):
    served = tmp_path / "served"
    arrays, sums = make_set(served)
    monkeypatch.setattr(FashionMNIST, "resources", list(zip(NAMES, sums)))
    root = tmp_path / "root"
    with serving(served) as base:
        monkeypatch.setenv("GDCORE_FASHION_MNIST_URL", base)
        train = FashionMNIST(root, download=True)
        test = FashionMNIST(root, train=False, download=True)
    raw = root / "FashionMNIST" / "raw"
    assert sorted(os.listdir(raw)) == sorted(NAMES)  # and no partial file left behind
    np.testing.assert_array_equal(train.data.numpy(), arrays[0])
    np.testing.assert_array_equal(test.targets.numpy(), arrays[3])
    # the server is gone: the stored files are used
    assert len(FashionMNIST(root, download=True)) == 5


def test_download_with_wrong_bytes_is_rejected_and_not_stored(tmp_path, monkeypatch):
    served = tmp_path / "served"
    make_set(served)
    expected = "0" * 64
    monkeypatch.setattr(MNIST, "resources", [(name, expected) for name in NAMES])
    actual = hashlib.sha256((served / NAMES[0]).read_bytes()).hexdigest()
    with serving(served) as base:
        monkeypatch.setenv("GDCORE_MNIST_URL", base)
        with pytest.raises(ChecksumError, match=f"SHA-256 {actual}, expected {expected}; it was not saved"):
            MNIST(tmp_path / "root", download=True)
    assert os.listdir(tmp_path / "root" / "MNIST" / "raw") == []


def test_download_from_a_server_without_the_files_is_a_clear_error(tmp_path, monkeypatch):
    with serving(tmp_path) as base:
        monkeypatch.setenv("GDCORE_MNIST_URL", base)
        with pytest.raises(RuntimeError, match=r"downloading train-images-idx3-ubyte\.gz from http://127\.0\.0\.1:\d+/"
                                               r"train-images-idx3-ubyte\.gz failed: HTTP error 404"):
            MNIST(tmp_path / "root", download=True)


def test_the_published_checksums_are_sha256_digests():
    for cls in (MNIST, FashionMNIST):
        assert [name for name, _ in cls.resources] == NAMES
        assert all(len(digest) == 64 and int(digest, 16) >= 0 for _, digest in cls.resources)


def test_a_header_matching_the_trailer_modulo_2_32_is_still_refused(tmp_path):
    """4 * 2**30 + 16 bytes is 16 modulo 2**32: the gzip trailer alone cannot tell, deflate's ratio can."""
    path = tmp_path / "wrapped.idx.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x03" + struct.pack(">3I", 4, 2 ** 15, 2 ** 15)))
    with pytest.raises(IDXError, match="truncated or corrupt"):
        read_idx(path)
