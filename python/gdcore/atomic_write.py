"""Replacing a file so that it is either all old or all new: how gdcore.save and
gdcore.safetensors.save_file write.

The new contents go to a hidden file beside the target (same folder, so same file system), which is
fsynced and then renamed over the target (os.replace is atomic); the folder is fsynced after, so the
rename survives a power cut. An error, or a kill, before the rename leaves the old file untouched (a
kill may leave the hidden ``.<name>.<pid>.<random>.tmp`` file behind; it is safe to delete).
"""
from __future__ import annotations

import os
import secrets
import stat
from typing import Callable

__all__ = ["write_atomically"]


def write_atomically(target: str, write: Callable[[str], None]) -> None:
    """Call ``write(path)`` to fill a new, empty file at ``path``, then make it ``target`` atomically (keeping
    the permissions of the file it replaces). ``target`` is a file path whose folder exists."""
    folder = os.path.dirname(target) or "."
    # Hidden, unique, and short enough for any file system (names are capped at 255 bytes).
    temporary = os.path.join(folder, f".{os.path.basename(target)[:100]}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # O_EXCL: created here or not at all, so the clean-up below never removes someone else's file.
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666))
    try:
        write(temporary)
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        if os.path.exists(target):
            os.chmod(temporary, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(temporary, target)
    except BaseException:
        try:
            os.remove(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    """Make the rename durable (POSIX); harmless to skip where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
