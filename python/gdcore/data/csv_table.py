"""Numeric tables from delimited text files: ``load_csv`` for a user's own data.

The parser reads every row, checks that all rows have the same number of fields and
that every field is a finite number, and reports the first problem with its line
number, column and text, so a user can fix the file. The delimiter is sniffed from the
first line (tab, comma, semicolon, else runs of whitespace) and a header row is
recognised by holding something that is not a number.
"""
from __future__ import annotations

import csv
import io
import math
import os
from typing import Optional, Union

import numpy as np

from ..creation import float32, float64, from_numpy, _dtype

__all__ = ["load_csv", "read_numeric_table"]

_SNIFFED = ("\t", ",", ";")


def _read_text(path, who: str) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{who}: path must be a str or os.PathLike, got a {type(path).__name__}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{who}: no such file: {os.fspath(path)!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{who}: {os.fspath(path)!r} is a directory; pass the path of a CSV file")
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"{who}: {os.fspath(path)!r} is not a UTF-8 text file (byte {e.start} is {raw[e.start]:#04x}); "
                         "pass a CSV/TSV text file") from None


def _rows(text: str, delimiter: Optional[str]):
    """(line number, fields) for every non-blank line; line numbers count from 1."""
    if delimiter is None:
        first = next((line for line in text.splitlines() if line.strip()), "")
        delimiter = next((d for d in _SNIFFED if d in first), None)
    if delimiter is None or delimiter == " ":  # runs of spaces/tabs separate fields
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield number, line.split()
        return
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for fields in reader:
        if fields and not (len(fields) == 1 and not fields[0].strip()):
            yield reader.line_num, [f.strip() for f in fields]


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_numeric_table(path, delimiter: Optional[str] = None, header: Union[str, bool, None] = "infer",
                       who: str = "load_csv"):
    """Parse a delimited text file into (column names or None, float64 array of shape (rows, columns)).

    ``header``: True (first row holds names), False/None (no header) or 'infer' (a first
    row with any non-number is a header). Raises ValueError naming the line, column and
    text of the first ragged row, non-number or non-finite value.
    """
    if header not in ("infer", True, False, None):
        raise ValueError(f"{who}: header must be 'infer', True or False, got {header!r}")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise ValueError(f"{who}: delimiter must be one character such as ',' or '\\t' (or None to sniff it), "
                         f"got {delimiter!r}")
    name = os.fspath(path) if isinstance(path, (str, os.PathLike)) else path
    rows = _rows(_read_text(path, who), delimiter)
    first = next(rows, None)
    if first is None:
        raise ValueError(f"{who}: {name!r} is empty; it needs rows of numbers")
    first_line, first_fields = first
    has_header = header is True or (header == "infer" and not all(_is_number(f) for f in first_fields))
    names = first_fields if has_header else None
    width = len(first_fields)

    values: list[list[float]] = []
    for line, fields in (rows if has_header else _chain(first, rows)):
        if len(fields) != width:
            raise ValueError(f"{who}: {name!r} line {line} has {len(fields)} fields but line {first_line} has {width}; "
                             "every row needs the same number of columns (check for missing values or stray delimiters)")
        row = []
        for column, text in enumerate(fields):
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"{who}: {name!r} line {line}, column {_column_label(column, names)}: {text!r} is not "
                                 "a number; the table must hold only numbers (besides an optional header row)") from None
            if not math.isfinite(value):
                raise ValueError(f"{who}: {name!r} line {line}, column {_column_label(column, names)}: {text!r} is not "
                                 "a finite number; fill in or drop missing values before training")
            row.append(value)
        values.append(row)
    if not values:
        raise ValueError(f"{who}: {name!r} has a header row but no data rows")
    return names, np.array(values, dtype=np.float64)


def _numpy_float_dtype(dtype, who: str):
    """The numpy dtype for a gdcore float dtype (float32 when None)."""
    gd = _dtype(dtype, float32)
    if gd not in (float32, float64):
        raise ValueError(f"{who}: dtype must be gdcore.float32 or gdcore.float64, got {gd}")
    return np.float32 if gd == float32 else np.float64


def _chain(first, rest):
    yield first
    yield from rest


def _column_label(column: int, names) -> str:
    return f"{column + 1} ({names[column]!r})" if names else str(column + 1)


def _target_column(target: Union[int, str], names, width: int, name: str) -> int:
    if isinstance(target, str):
        if names is None:
            raise ValueError(f"load_csv: {name!r} has no header row, so the target must be a column index "
                             f"(0..{width - 1}), not the name {target!r}")
        matches = [i for i, n in enumerate(names) if n == target]
        if not matches:
            raise ValueError(f"load_csv: no column named {target!r} in {name!r}; its columns are {names}")
        if len(matches) > 1:
            raise ValueError(f"load_csv: {len(matches)} columns are named {target!r} in {name!r}; pass the target "
                             f"as a column index instead (one of {matches})")
        return matches[0]
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)):
        raise TypeError(f"load_csv: target must be a column name (str) or index (int), got {target!r}")
    if not -width <= target < width:
        raise IndexError(f"load_csv: target column {target} is out of range for {name!r}, which has {width} columns "
                         f"(valid indices: {-width}..{width - 1})")
    return int(target) % width


def load_csv(path, target: Union[int, str] = -1, delimiter: Optional[str] = None,
             header: Union[str, bool, None] = "infer", dtype=None):
    """Read a numeric table and split it into features and a target column.

    ``path``: a CSV/TSV file of numbers, optionally with a header row of names.
    ``target``: the label column, by name (needs a header) or index (negative counts
    from the end; default -1, the last column). ``delimiter``: None sniffs tab, comma,
    semicolon or whitespace from the first line. ``header``: 'infer', True or False.
    Returns ``(X, y)``: X of shape (rows, columns - 1) holding the other columns in
    file order, y of shape (rows,), both of ``dtype`` (float32 by default).
    """
    names, table = read_numeric_table(path, delimiter, header, who="load_csv")
    name = os.fspath(path)
    width = table.shape[1]
    if width < 2:
        raise ValueError(f"load_csv: {name!r} has {width} column; it needs feature columns and a target column "
                         "(check the delimiter)")
    column = _target_column(target, names, width, name)
    features = np.delete(table, column, axis=1)
    np_dtype = _numpy_float_dtype(dtype, "load_csv")
    return (from_numpy(np.ascontiguousarray(features, dtype=np_dtype)),
            from_numpy(np.ascontiguousarray(table[:, column], dtype=np_dtype)))
