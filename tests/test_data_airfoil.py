"""load_airfoil / airfoil_loader (gdcore/data/airfoil.py): finding, downloading and checking the file.

Expected values come from parsing the file with plain Python (split on CRLF and tab)
and standardising with the statistics module. Downloads go to a local http.server on
127.0.0.1 started and stopped by each test, serving a temporary copy; nothing touches
the internet and nothing is written into the shared data folder.
"""
import contextlib
import functools
import hashlib
import http.server
import os
import shutil
import statistics
import threading

import numpy as np
import pytest

import gdcore
from gdcore.data import AIRFOIL_SHA1, ChecksumError, airfoil_loader, load_airfoil

NAME = "airfoil_self_noise.dat"


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No GDCORE_DATA_DIR, and an empty private cache directory; returns the cache folder."""
    monkeypatch.delenv("GDCORE_DATA_DIR", raising=False)
    monkeypatch.delenv("GDCORE_AIRFOIL_URL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "gdcore"


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


def _plain_rows(data_dir):
    with open(os.path.join(data_dir, NAME), "rb") as f:
        text = f.read().decode("ascii")
    return [[float(v) for v in line.split("\t")] for line in text.split("\r\n") if line]


def test_reads_the_file_and_standardises_like_the_chapter(data_dir):
    rows = _plain_rows(data_dir)
    assert len(rows) == 1503 and all(len(r) == 6 for r in rows)
    columns = list(zip(*rows))
    means = [statistics.fmean(c) for c in columns]
    stds = [statistics.pstdev(c) for c in columns]
    X, y = load_airfoil(path=data_dir)
    assert X.shape == (1500, 5) and y.shape == (1500,) and X.dtype == y.dtype == gdcore.float32
    for i in (0, 1, 777, 1499):
        expected = [(v - m) / s for v, m, s in zip(rows[i], means, stds)]
        np.testing.assert_allclose(X[i].tolist() + [y[i].item()], expected, rtol=1e-5, atol=1e-6)


def test_raw_values_and_n(data_dir):
    rows = _plain_rows(data_dir)
    X, y = load_airfoil(path=os.path.join(data_dir, NAME), standardize=False, n=10)
    assert X.shape == (10, 5) and y.shape == (10,)
    np.testing.assert_array_equal(X.numpy(), np.array([r[:5] for r in rows[:10]], dtype=np.float32))
    np.testing.assert_array_equal(y.numpy(), np.array([r[5] for r in rows[:10]], dtype=np.float32))


@pytest.mark.parametrize("n", [0, 1504, 2.5, True])
def test_bad_n(data_dir, n):
    with pytest.raises(ValueError, match=r"n must be an int in 1..1503"):
        load_airfoil(path=data_dir, n=n)


def test_found_through_gdcore_data_dir(data_dir, isolated, monkeypatch):
    monkeypatch.setenv("GDCORE_DATA_DIR", data_dir)
    X, _ = load_airfoil(download=False)
    assert X.shape == (1500, 5)
    assert not isolated.exists()  # nothing cached or downloaded


def test_found_in_the_cache(data_dir, isolated):
    isolated.mkdir(parents=True)
    shutil.copy(os.path.join(data_dir, NAME), isolated / NAME)
    assert load_airfoil(download=False, n=5)[0].shape == (5, 5)


def test_missing_without_download_says_where_it_looked(isolated):
    with pytest.raises(FileNotFoundError, match=r"not found \(looked in .*gdcore.*\) and download=False.*GDCORE_DATA_DIR"):
        load_airfoil(download=False)


def test_explicit_path_must_exist(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_airfoil(path=tmp_path / "nope.dat")


def test_changed_bytes_name_both_sha1s(data_dir, tmp_path):
    altered = tmp_path / NAME
    with open(os.path.join(data_dir, NAME), "rb") as original:
        altered.write_bytes(original.read().replace(b"\r\n", b"\n"))  # what a git checkout may do
    actual = hashlib.sha1(altered.read_bytes()).hexdigest()
    with pytest.raises(ChecksumError) as info:
        load_airfoil(path=altered)
    message = str(info.value)
    assert actual in message and AIRFOIL_SHA1 in message and "Delete it" in message
    assert isinstance(info.value, ValueError)


def test_downloads_into_the_cache_from_a_local_server(data_dir, isolated, tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(os.path.join(data_dir, NAME), served / NAME)
    with serving(served) as base:
        monkeypatch.setenv("GDCORE_AIRFOIL_URL", f"{base}/{NAME}")
        X, y = load_airfoil(n=20)
    assert os.listdir(isolated) == [NAME]  # the file, and no leftover partial download
    assert hashlib.sha1((isolated / NAME).read_bytes()).hexdigest() == AIRFOIL_SHA1
    expected_X, expected_y = load_airfoil(path=data_dir, n=20)
    np.testing.assert_array_equal(X.numpy(), expected_X.numpy())
    np.testing.assert_array_equal(y.numpy(), expected_y.numpy())
    # The server is gone: the cached copy is used.
    assert load_airfoil(n=20)[0].shape == (20, 5)


def test_download_with_wrong_bytes_is_rejected_and_not_cached(data_dir, isolated, tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    (served / NAME).write_bytes(b"<html>404 page of a proxy</html>")
    actual = hashlib.sha1(b"<html>404 page of a proxy</html>").hexdigest()
    with serving(served) as base:
        monkeypatch.setenv("GDCORE_AIRFOIL_URL", f"{base}/{NAME}")
        with pytest.raises(ChecksumError, match=f"SHA-1 {actual}, expected {AIRFOIL_SHA1}; it was not saved"):
            load_airfoil()
    assert os.listdir(isolated) == []


def test_server_down_or_missing_file_gives_a_clear_error(isolated, tmp_path, monkeypatch):
    with serving(tmp_path) as base:
        monkeypatch.setenv("GDCORE_AIRFOIL_URL", f"{base}/{NAME}")
        with pytest.raises(RuntimeError, match=r"downloading it from http://127\.0\.0\.1:\d+/.* failed: HTTP error 404"):
            load_airfoil()
    # The server is shut down now, so the same address refuses connections.
    with pytest.raises(RuntimeError, match=r"failed: .*(refused|Errno).*pass path=.*GDCORE_DATA_DIR"):
        load_airfoil()
    assert os.listdir(isolated) == []


def test_airfoil_loader_covers_every_row_once_per_epoch(data_dir):
    loader = airfoil_loader(batch_size=10, path=data_dir, generator=gdcore.Generator(3))
    X, y = loader.dataset.tensors
    assert len(loader) == 150
    seen = []
    for xb, yb in loader:
        assert xb.shape == (10, 5) and yb.shape == (10,)
        seen += [tuple(row) for row in np.column_stack([xb.numpy(), yb.numpy()]).tolist()]
    expected = [tuple(row) for row in np.column_stack([X.numpy(), y.numpy()]).tolist()]
    assert sorted(seen) == sorted(expected) and seen != expected
    again = airfoil_loader(batch_size=10, path=data_dir, generator=gdcore.Generator(3))
    np.testing.assert_array_equal(next(iter(again))[1].numpy(), np.array([r[5] for r in seen[:10]], dtype=np.float32))
