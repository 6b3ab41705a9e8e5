"""load_csv (gdcore/data/csv_table.py): a user's own numeric table split into X and y.

Expected values are the literal numbers written into each temporary file.
"""
import numpy as np
import pytest

import gdcore
from gdcore.data import load_csv

TABLE = [[1.0, 2.0, 3.5], [4.0, -5.0, 6.25], [7.0, 8e-3, 9.0]]


def _write(tmp_path, text, name="table.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _check(X, y, target_column, dtype=np.float32):
    table = np.array(TABLE, dtype=dtype)
    np.testing.assert_array_equal(X.numpy(), np.delete(table, target_column, axis=1))
    np.testing.assert_array_equal(y.numpy(), table[:, target_column])
    assert X.shape == (3, 2) and y.shape == (3,)


def _rows(delimiter):
    return "\n".join(delimiter.join(repr(v) for v in row) for row in TABLE) + "\n"


def test_header_and_target_by_name(tmp_path):
    path = _write(tmp_path, "a,b,price\n" + _rows(","))
    X, y = load_csv(path, target="price")
    assert X.dtype == gdcore.float32
    _check(X, y, 2)
    _check(*load_csv(path, target="a"), 0)


@pytest.mark.parametrize("target, column", [(0, 0), (1, 1), (-1, 2), (-3, 0)])
def test_target_by_index_without_header(tmp_path, target, column):
    _check(*load_csv(_write(tmp_path, _rows(",")), target=target), column)


def test_default_target_is_the_last_column(tmp_path):
    _check(*load_csv(_write(tmp_path, _rows(","))), 2)


@pytest.mark.parametrize("delimiter", ["\t", ",", ";", " "])
def test_delimiter_is_sniffed(tmp_path, delimiter):
    _check(*load_csv(_write(tmp_path, "x" + delimiter + "z" + delimiter + "y\n" + _rows(delimiter)), target="y"), 2)


def test_whitespace_runs_crlf_bom_blank_lines_and_quotes(tmp_path):
    spaced = "\n".join("   ".join(repr(v) for v in row) for row in TABLE) + "\n\n"
    _check(*load_csv(_write(tmp_path, spaced, "s.txt")), 2)
    crlf = '\ufeff"a","b","c"\r\n' + _rows(",").replace("\n", "\r\n") + "\r\n"
    _check(*load_csv(_write(tmp_path, crlf, "c.csv"), target="c"), 2)


def test_explicit_delimiter_header_and_dtype(tmp_path):
    path = _write(tmp_path, _rows("|"))
    X, y = load_csv(path, target=1, delimiter="|", header=False, dtype=gdcore.float64)
    assert X.dtype == gdcore.float64
    _check(X, y, 1, dtype=np.float64)
    numbers_as_header = _write(tmp_path, "10,20,30\n" + _rows(","), "h.csv")
    X, y = load_csv(numbers_as_header, target="30", header=True)
    _check(X, y, 2)


def test_ragged_row_names_the_line(tmp_path):
    path = _write(tmp_path, "a,b,c\n1,2,3\n4,5\n6,7,8\n")
    with pytest.raises(ValueError, match=r"line 3 has 2 fields but line 1 has 3"):
        load_csv(path)


def test_non_number_names_line_column_and_text(tmp_path):
    path = _write(tmp_path, "a,b,c\n1,2,3\n4,5,6\n7,eight,9\n")
    with pytest.raises(ValueError, match=r"line 4, column 2 \('b'\): 'eight' is not a number"):
        load_csv(path)


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity"])
def test_non_finite_values_are_rejected(tmp_path, text):
    path = _write(tmp_path, f"1,2,3\n4,{text},6\n")
    with pytest.raises(ValueError, match=rf"line 2, column 2: '{text}' is not a finite number"):
        load_csv(path)


def test_empty_field_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"line 2, column 3: '' is not a number"):
        load_csv(_write(tmp_path, "1,2,3\n4,5,\n"))


def test_target_errors(tmp_path):
    with_header = _write(tmp_path, "a,b,c\n" + _rows(","), "h.csv")
    with pytest.raises(ValueError, match=r"no column named 'price'.*\['a', 'b', 'c'\]"):
        load_csv(with_header, target="price")
    with pytest.raises(IndexError, match=r"target column 3 is out of range .* 3 columns"):
        load_csv(with_header, target=3)
    with pytest.raises(TypeError, match="column name \\(str\\) or index \\(int\\)"):
        load_csv(with_header, target=1.0)
    without_header = _write(tmp_path, _rows(","), "n.csv")
    with pytest.raises(ValueError, match="no header row, so the target must be a column index"):
        load_csv(without_header, target="c")
    duplicated = _write(tmp_path, "a,a,c\n" + _rows(","), "d.csv")
    with pytest.raises(ValueError, match="2 columns are named 'a'"):
        load_csv(duplicated, target="a")


def test_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_csv(tmp_path / "missing.csv")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        load_csv(tmp_path)
    with pytest.raises(ValueError, match="is empty"):
        load_csv(_write(tmp_path, "\n\n", "e.csv"))
    with pytest.raises(ValueError, match="header row but no data rows"):
        load_csv(_write(tmp_path, "a,b\n", "h.csv"))
    with pytest.raises(ValueError, match="has 1 column"):
        load_csv(_write(tmp_path, "1\n2\n", "one.csv"))
    with pytest.raises(ValueError, match="not a UTF-8 text file"):
        load_csv(_binary(tmp_path))


def _binary(tmp_path):
    path = tmp_path / "binary.dat"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    return path


def test_bad_arguments(tmp_path):
    path = _write(tmp_path, _rows(","))
    with pytest.raises(ValueError, match="header must be 'infer', True or False"):
        load_csv(path, header="yes")
    with pytest.raises(ValueError, match="delimiter must be one character"):
        load_csv(path, delimiter=",,")
    with pytest.raises(ValueError, match="dtype must be gdcore.float32 or gdcore.float64"):
        load_csv(path, dtype=gdcore.int64)
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        load_csv(42)
