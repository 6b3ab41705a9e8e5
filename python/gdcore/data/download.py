"""Fetching a data file safely: one place for what every downloader in gdcore.data needs.

The bytes go to a temporary file beside the destination, are hashed as they arrive, are
fsynced, and only a file with the expected digest is renamed into place (os.replace is atomic),
so a half-written or wrong file never sits where a loader would find it. The callers word the
errors, because only they know what the user can do instead (pass a path, set a mirror).
"""
from __future__ import annotations

import os
import secrets
from typing import Callable

__all__ = ["DOWNLOAD_TIMEOUT_SECONDS", "ChecksumError", "fetch_verified"]

DOWNLOAD_TIMEOUT_SECONDS = 30


class ChecksumError(ValueError):
    """A data file's bytes are not the expected ones (its digest differs)."""


def fetch_verified(url: str, destination: str, hash_name: str, expected: str,
                   mismatch_message: Callable[[str], str], failure_message: Callable[[object], str]) -> str:
    """Download ``url`` to ``destination`` if its ``hash_name`` digest is ``expected``; return the path.

    A different digest raises ChecksumError(mismatch_message(actual_hex_digest)); a network or
    file-system failure raises RuntimeError(failure_message(reason)). Neither leaves a file behind.
    """
    # (imported here: urllib.request pulls in http, ssl and email, which `import gdcore` need not pay for)
    import hashlib
    import http.client
    import urllib.error
    import urllib.request

    folder = os.path.dirname(destination)
    partial = os.path.join(folder, f".{os.path.basename(destination)}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        os.makedirs(folder, exist_ok=True)
        digest = hashlib.new(hash_name)
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response, open(partial, "wb") as out:
            for block in iter(lambda: response.read(1 << 16), b""):
                digest.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != expected:
            raise ChecksumError(mismatch_message(digest.hexdigest()))
        os.replace(partial, destination)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        if isinstance(error, urllib.error.HTTPError):
            reason = f"HTTP error {error.code} ({error.reason})"
        else:
            reason = getattr(error, "reason", None) or error
        raise RuntimeError(failure_message(reason)) from error
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return destination
