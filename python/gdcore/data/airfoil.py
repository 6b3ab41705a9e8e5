"""The NASA airfoil self-noise data (UCI data set 291) used by the chapter's mini-batch SGD.

``load_airfoil`` finds the file (an explicit path, then ``$GDCORE_DATA_DIR``, then the
user cache directory), downloads it into the cache when it is missing and downloading
is allowed, and checks its SHA-1 so that a wrong or damaged file is never used
silently. The download URL is ``AIRFOIL_URL`` unless ``$GDCORE_AIRFOIL_URL`` overrides it
(tests point it at a local server). The file is 1503 rows of 6 tab-separated numbers:
five features (frequency, angle of attack, chord length, free-stream velocity,
suction-side displacement thickness) and the label (scaled sound pressure level, dB).
"""
from __future__ import annotations

import hashlib
import os
from typing import Optional

import numpy as np

from ..creation import from_numpy
from .csv_table import read_numeric_table
from .dataloader import DataLoader
from .dataset import TensorDataset
from .download import ChecksumError, fetch_verified

__all__ = ["AIRFOIL_URL", "AIRFOIL_SHA1", "AIRFOIL_FILENAME", "ChecksumError", "cache_dir", "find_airfoil",
           "load_airfoil", "airfoil_loader"]

AIRFOIL_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/00291/airfoil_self_noise.dat"
AIRFOIL_SHA1 = "76e5be1548fd8222e5074cf0faae75edff8cf93f"
AIRFOIL_FILENAME = "airfoil_self_noise.dat"
AIRFOIL_SHAPE = (1503, 6)


def cache_dir() -> str:
    """gdcore's download cache: ``$XDG_CACHE_HOME/gdcore``, else ``~/.cache/gdcore``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gdcore")


def _url() -> str:
    return os.environ.get("GDCORE_AIRFOIL_URL") or AIRFOIL_URL


def _sha1_of(path: str) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified(path: str) -> str:
    actual = _sha1_of(path)
    if actual != AIRFOIL_SHA1:
        raise ChecksumError(
            f"load_airfoil: {path} has SHA-1 {actual}, expected {AIRFOIL_SHA1}: it is not the original airfoil "
            "self-noise file (damaged, truncated, or changed, e.g. its CRLF line endings converted). Delete it so "
            "that it is downloaded again, or replace it with the original file from the UCI archive.")
    return path


def find_airfoil(path: Optional[str] = None, download: bool = True) -> str:
    """The path of a verified copy of airfoil_self_noise.dat.

    ``path`` (the file, or a folder holding it) is used alone when given. Otherwise
    ``$GDCORE_DATA_DIR`` and then ``cache_dir()`` are searched, and the file is
    downloaded into the cache when ``download`` is true.
    """
    if path is not None:
        candidate = os.fspath(path)
        if os.path.isdir(candidate):
            candidate = os.path.join(candidate, AIRFOIL_FILENAME)
        if not os.path.isfile(candidate):
            raise FileNotFoundError(f"load_airfoil: no such file: {candidate!r}; pass the path of "
                                    f"{AIRFOIL_FILENAME} (or of the folder holding it), or path=None to search "
                                    "$GDCORE_DATA_DIR and the cache")
        return _verified(candidate)
    places = []
    if os.environ.get("GDCORE_DATA_DIR"):
        places.append(os.path.join(os.environ["GDCORE_DATA_DIR"], AIRFOIL_FILENAME))
    cached = os.path.join(cache_dir(), AIRFOIL_FILENAME)
    places.append(cached)
    for candidate in places:
        if os.path.isfile(candidate):
            return _verified(candidate)
    looked = " and ".join(places)
    if not download:
        raise FileNotFoundError(f"load_airfoil: {AIRFOIL_FILENAME} not found (looked in {looked}) and download=False; "
                                "set GDCORE_DATA_DIR to the folder holding it, pass path=..., or allow download=True")
    return _download(_url(), cached, looked)


def _download(url: str, destination: str, looked: str) -> str:
    """Fetch ``url`` to ``destination`` (atomically), keeping it only if its SHA-1 is the data set's."""
    return fetch_verified(
        url, destination, "sha1", AIRFOIL_SHA1,
        lambda actual: (
            f"load_airfoil: the file downloaded from {url} has SHA-1 {actual}, expected "
            f"{AIRFOIL_SHA1}; it was not saved. The server may have sent an error page or a different file: "
            f"download {AIRFOIL_FILENAME} by hand and pass path=..., or set GDCORE_DATA_DIR to its folder."),
        lambda reason: (
            f"load_airfoil: {AIRFOIL_FILENAME} not found (looked in {looked}) and downloading it from "
            f"{url} failed: {reason}. Download it by hand and pass path=..., or set GDCORE_DATA_DIR "
            "to the folder holding it (GDCORE_AIRFOIL_URL overrides the download address)."))


def load_airfoil(path: Optional[str] = None, download: bool = True, standardize: bool = True, n: int = 1500):
    """The first ``n`` rows of the airfoil self-noise data as ``(X, y)`` float32 tensors.

    X has shape (n, 5) (the five features), y has shape (n,) (sound pressure level).
    With ``standardize`` every column is shifted and scaled to mean 0 and standard
    deviation 1 (population std, over all 1503 rows, before taking the first n: what
    the chapter's ``get_data_ch11`` does). See ``find_airfoil`` for where the file is
    looked for; a missing file that cannot be downloaded raises FileNotFoundError
    (download=False) or RuntimeError, a file with other bytes raises ChecksumError.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= AIRFOIL_SHAPE[0]:
        raise ValueError(f"load_airfoil: n must be an int in 1..{AIRFOIL_SHAPE[0]} (the file has "
                         f"{AIRFOIL_SHAPE[0]} rows), got {n!r}")
    file = find_airfoil(path, download)
    _, table = read_numeric_table(file, delimiter="\t", header=False, who="load_airfoil")
    if table.shape != AIRFOIL_SHAPE:  # cannot happen for the verified bytes; a guard against a changed parser
        raise ValueError(f"load_airfoil: {file} parsed to shape {table.shape}, expected {AIRFOIL_SHAPE}")
    if standardize:
        table = (table - table.mean(axis=0)) / table.std(axis=0)
    table = table[:n].astype(np.float32)
    return from_numpy(np.ascontiguousarray(table[:, :-1])), from_numpy(np.ascontiguousarray(table[:, -1]))


def airfoil_loader(batch_size: int = 10, n: int = 1500, shuffle: bool = True, generator=None,
                   path: Optional[str] = None, download: bool = True, standardize: bool = True) -> DataLoader:
    """A DataLoader over ``load_airfoil(path, download, standardize, n)`` yielding [X (B, 5), y (B,)] batches.

    The chapter's ``get_data_ch11``: shuffled mini-batches (``generator`` makes the
    order reproducible). The full tensors are ``loader.dataset.tensors``.
    """
    features, labels = load_airfoil(path=path, download=download, standardize=standardize, n=n)
    return DataLoader(TensorDataset(features, labels), batch_size=batch_size, shuffle=shuffle, generator=generator)
