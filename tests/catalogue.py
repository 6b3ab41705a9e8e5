"""Shared machinery of the bad-input catalogue (tests/test_catalogue_*.py).

Each catalogue file lists cases ``bad(id, call, error, words)``: calling ``call`` (with a temporary
folder when it takes an argument) must raise ``error`` (or a subclass) whose message contains
``words``, text chosen so that it names the problem (usually with the offending values) or the fix.
A crash would take the whole pytest process down, so the catalogue passing also shows that none of
these inputs crashes the interpreter.
"""
from __future__ import annotations

import contextlib
import inspect
import io

import pytest


def bad(case_id: str, call, error: type, words: str):
    """One catalogue entry as a pytest parameter."""
    return pytest.param(call, error, words, id=case_id)


def check(call, error: type, words: str, tmp_path) -> None:
    takes_folder = len(inspect.signature(call).parameters) == 1
    with pytest.raises(error) as info:
        call(tmp_path) if takes_folder else call()
    assert words in str(info.value), f"the message does not say {words!r}: {info.value}"


class CommandFailed(Exception):
    """What ``run_cli`` raises when the gdcore command exits with a non-zero status."""


def run_cli(argv: list) -> None:
    """Run ``gdcore <argv>`` in-process; raise CommandFailed('exit N: <stderr>') unless it succeeds."""
    from gdcore import cli

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            status = cli.main(argv)
        except SystemExit as stop:  # argparse's usage errors
            status = stop.code
    message = err.getvalue().strip()
    if status:
        assert message.count("\n") == 0, f"expected one line on stderr, got {message!r}"
        raise CommandFailed(f"exit {status}: {message}")
