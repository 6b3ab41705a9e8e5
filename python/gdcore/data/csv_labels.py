"""``load_labelled_csv``: a table of numeric features and one column of class labels (strings such as
"setosa", or integers), for classification. The labels become class indices 0..k-1 in sorted order
(numerically when they are all integers), returned with the list of class names.
"""
from __future__ import annotations

import os
from typing import Optional, Union

import numpy as np

from ..creation import from_numpy
from .csv_table import _is_number, _read_text, _rows, _target_column

__all__ = ["load_labelled_csv"]


def _has_header(first, second) -> bool:
    # A header row: some field that holds a number on the next row holds text on the first.
    if second is None:
        return not all(_is_number(f) for f in first)
    return any(not _is_number(a) and _is_number(b) for a, b in zip(first, second))


def load_labelled_csv(path, target: Union[int, str] = -1, delimiter: Optional[str] = None):
    """Read features and class labels from a CSV/TSV file (an optional header row is detected).

    ``target``: the label column by name (needs a header) or index (default -1, the last column).
    Returns ``(X, y, classes)``: X float32 (rows, columns - 1), y int64 (rows,) of class indices into
    ``classes``, the sorted distinct labels (ints when every label is an integer, else strings).
    """
    who = "load_labelled_csv"
    text = _read_text(path, who)
    name = os.fspath(path)
    rows = list(_rows(text, delimiter))
    if not rows:
        raise ValueError(f"{who}: {name!r} is empty; it needs rows of features and a label")
    header = _has_header(rows[0][1], rows[1][1] if len(rows) > 1 else None)
    names = rows[0][1] if header else None
    data = rows[1:] if header else rows
    if not data:
        raise ValueError(f"{who}: {name!r} has a header row but no data rows")
    width = len(data[0][1])
    if width < 2:
        raise ValueError(f"{who}: {name!r} has {width} column; it needs feature columns and a label column "
                         "(check the delimiter)")
    column = _target_column(target, names, width, name)
    features, labels = [], []
    for line, fields in data:
        if len(fields) != width:
            raise ValueError(f"{who}: {name!r} line {line} has {len(fields)} fields but line {data[0][0]} has {width}")
        row = []
        for k, text_value in enumerate(fields):
            if k == column:
                labels.append(text_value)
            elif _is_number(text_value):
                row.append(float(text_value))
            else:
                label = names[k] if names else str(k)
                raise ValueError(f"{who}: {name!r} line {line}, column {label!r}: {text_value!r} is not a number "
                                 "(only the label column may hold text)")
        features.append(row)
    if all(_is_number(v) for v in labels):
        values = [float(v) for v in labels]
        if not all(v == int(v) for v in values):
            raise ValueError(f"{who}: the label column of {name!r} holds non-integer numbers (e.g. "
                             f"{next(v for v in labels if float(v) != int(float(v)))!r}); class labels must be "
                             "integers or names (for a numeric target use regression)")
        keys = [int(v) for v in values]
    else:
        keys = labels
    classes = sorted(set(keys))
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[k] for k in keys], dtype=np.int64)
    X = np.ascontiguousarray(np.array(features, dtype=np.float32).reshape(len(data), width - 1))
    return from_numpy(X), from_numpy(y), classes
