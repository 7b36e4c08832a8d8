"""Tests for skiprec_tf.data.readers on small files written here."""

import bz2
import gzip
import importlib.util
import io
import pathlib
import re
import zipfile

import numpy as np
import pandas as pd
import pytest

from skiprec_tf.data import files, readers
from skiprec_tf.errors import DataError

# fmt -> (header line or None, separator, name of the separator in messages, field names).
DELIMITED = {
    "movielens_csv": ("userId,movieId,rating,timestamp", ",", "comma", ("userId", "movieId")),
    "movielens_dat": (None, "::", "'::'", ("UserID", "MovieID")),
    "ml100k": (None, "\t", "tab", ("user", "item")),
}
TOOLS = pathlib.Path(__file__).resolve().parents[2] / "tools"
GOOD_ROWS = [["1", "10", "4.0", "100"], ["1", "11", "3.5", "99"], ["2", "10", "5", "50"]]


def _zipped(data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ratings.csv", data)
    return buffer.getvalue()


def _write(tmp_path, text, name="data.txt"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _write_delimited(tmp_path, fmt, rows):
    """Writes `rows` in `fmt`; returns (path, number of the first data line)."""
    header, sep, _, _ = DELIMITED[fmt]
    lines = ([header] if header else []) + [sep.join(row) for row in rows]
    return _write(tmp_path, "\n".join(lines) + "\n\n"), 2 if header else 1


def _expected(users, items, timestamps):
    return pd.DataFrame({"user": users, "item": items, "timestamp": timestamps}, dtype=np.int64)


@pytest.mark.parametrize("fmt", sorted(DELIMITED))
def test_delimited_reads_good_file_in_file_order(tmp_path, fmt):
    path, _ = _write_delimited(tmp_path, fmt, GOOD_ROWS)
    df = readers.read_interactions(path, fmt)
    pd.testing.assert_frame_equal(df, _expected([1, 1, 2], [10, 11, 10], [100, 99, 50]))


@pytest.mark.parametrize("fmt", sorted(DELIMITED))
def test_delimited_wrong_field_count_names_line(tmp_path, fmt):
    path, first = _write_delimited(tmp_path, fmt, [GOOD_ROWS[0], ["1", "11", "3.5"], GOOD_ROWS[2]])
    sep_name = DELIMITED[fmt][2]
    with pytest.raises(DataError) as info:
        readers.read_interactions(path, fmt)
    assert str(info.value) == (f"{path}:{first + 1}: expected 4 {sep_name}-separated fields, got 3")


@pytest.mark.parametrize("fmt", sorted(DELIMITED))
def test_delimited_too_many_fields_names_line(tmp_path, fmt):
    path, first = _write_delimited(tmp_path, fmt, GOOD_ROWS + [["3", "1", "2", "3", "4"]])
    with pytest.raises(DataError, match=rf":{first + 3}: expected 4 .*, got 5$"):
        readers.read_interactions(path, fmt)


@pytest.mark.parametrize("fmt", sorted(DELIMITED))
@pytest.mark.parametrize("column", [0, 1])
def test_delimited_non_numeric_id_names_line_and_field(tmp_path, fmt, column):
    bad = list(GOOD_ROWS[1])
    bad[column] = "abc"
    path, first = _write_delimited(tmp_path, fmt, [GOOD_ROWS[0], bad])
    name = DELIMITED[fmt][3][column]
    with pytest.raises(DataError) as info:
        readers.read_interactions(path, fmt)
    assert str(info.value) == f"{path}:{first + 1}: {name} 'abc' is not an integer"


@pytest.mark.parametrize("fmt", sorted(DELIMITED))
@pytest.mark.parametrize("value", ["12:00", "1.5", ""])
def test_delimited_non_integer_timestamp_names_line(tmp_path, fmt, value):
    path, first = _write_delimited(tmp_path, fmt, GOOD_ROWS + [["3", "4", "5", value]])
    with pytest.raises(DataError) as info:
        readers.read_interactions(path, fmt)
    assert str(info.value).startswith(f"{path}:{first + 3}: ")
    assert f"'{value}' is not an integer" in str(info.value)


@pytest.mark.parametrize("fmt", sorted(DELIMITED))
@pytest.mark.parametrize("column", [0, 1])
def test_delimited_negative_id_names_line_and_field(tmp_path, fmt, column):
    bad = list(GOOD_ROWS[1])
    bad[column] = "-7"
    path, first = _write_delimited(tmp_path, fmt, [GOOD_ROWS[0], bad, GOOD_ROWS[2]])
    name = DELIMITED[fmt][3][column]
    with pytest.raises(DataError) as info:
        readers.read_interactions(path, fmt)
    assert str(info.value) == (
        f"{path}:{first + 1}: {name} -7 in column {column + 1} is negative (ids are integers >= 0)"
    )


@pytest.mark.parametrize("fmt", sorted(DELIMITED))
@pytest.mark.parametrize("column", [0, 1])
def test_delimited_id_beyond_int64_names_line_and_field(tmp_path, fmt, column):
    bad = list(GOOD_ROWS[1])
    bad[column] = "99999999999999999999"
    path, first = _write_delimited(tmp_path, fmt, [GOOD_ROWS[0], bad])
    name = DELIMITED[fmt][3][column]
    with pytest.raises(DataError) as info:
        readers.read_interactions(path, fmt)
    assert str(info.value) == (
        f"{path}:{first + 1}: {name} 99999999999999999999 does not fit in 64 bits"
    )


@pytest.mark.parametrize("fmt", sorted(DELIMITED))
def test_delimited_latin1_bytes_name_line_and_field(tmp_path, fmt):
    path, first = _write_delimited(tmp_path, fmt, GOOD_ROWS)
    path.write_bytes(path.read_bytes().replace(b"11", "1\xe9".encode("latin-1"), 1))
    name = DELIMITED[fmt][3][1]
    with pytest.raises(DataError) as info:
        readers.read_interactions(path, fmt)
    assert str(info.value) == (
        f"{path}:{first + 1}: {name} '1\ufffd' is not an integer "
        "(it holds bytes that are not UTF-8, shown as \ufffd: a Latin-1 file?)"
    )


@pytest.mark.parametrize(
    "fmt, line, looks, suggestion",
    [
        ("movielens_csv", "1\t2\t3.0\t4", "tab", "--data_format=ml100k?"),
        ("movielens_dat", "1,2,3.0,4", "comma", "--data_format=movielens_csv?"),
        ("ml100k", "1;2;3.0;4", "semicolon", "is the data format right?"),
        ("ml100k", "1::2::3.0::4", "'::'", "--data_format=movielens_dat?"),
    ],
)
def test_delimited_wrong_separator_says_what_the_line_looks_like(
    tmp_path, fmt, line, looks, suggestion
):
    header, _, sep_name, _ = DELIMITED[fmt]
    path = _write(tmp_path, ((header + "\n") if header else "") + line + "\n")
    with pytest.raises(DataError) as info:
        readers.read_interactions(path, fmt)
    assert str(info.value) == (
        f"{path}:{2 if header else 1}: expected 4 {sep_name}-separated fields, got 1 "
        f"(the line looks {looks}-separated: {suggestion})"
    )


def test_csv_with_semicolons_fails_on_its_header(tmp_path):
    path = _write(tmp_path, "userId;movieId;rating;timestamp\n1;2;3.0;4\n")
    with pytest.raises(DataError, match=":1: expected the header .*got 'userId;movieId;"):
        readers.read_movielens_csv(path)


@pytest.mark.parametrize("fmt", sorted(DELIMITED))
def test_delimited_header_in_the_middle_names_its_line(tmp_path, fmt):
    path, first = _write_delimited(tmp_path, fmt, GOOD_ROWS)
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(first, "userId,movieId,rating,timestamp\n")  # after the first data line
    path.write_text("".join(lines))
    expected = {
        "movielens_csv": "userId 'userId' is not an integer",
        "movielens_dat": "expected 4 '::'-separated fields, got 1 "
        "(the line looks comma-separated: is the data format right?)",
        "ml100k": "expected 4 tab-separated fields, got 1 "
        "(the line looks comma-separated: is the data format right?)",
    }[fmt]
    with pytest.raises(DataError) as info:
        readers.read_interactions(path, fmt)
    assert str(info.value) == f"{path}:{first + 1}: {expected}"


@pytest.mark.parametrize("fmt", sorted(DELIMITED))
def test_delimited_windows_line_endings_read_like_unix_ones(tmp_path, fmt):
    path, _ = _write_delimited(tmp_path, fmt, GOOD_ROWS)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    df = readers.read_interactions(path, fmt)
    pd.testing.assert_frame_equal(df, _expected([1, 1, 2], [10, 11, 10], [100, 99, 50]))


@pytest.mark.parametrize("fmt", sorted(DELIMITED))
def test_delimited_duplicate_rows_are_kept_and_counted_in_the_log(tmp_path, fmt, caplog):
    path, _ = _write_delimited(
        tmp_path, fmt, GOOD_ROWS + [GOOD_ROWS[0], GOOD_ROWS[2], GOOD_ROWS[0]]
    )
    with caplog.at_level("INFO"):
        df = readers.read_interactions(path, fmt)
    assert len(df) == 6
    assert f"{path}: 3 rows repeat an earlier row's user, item and timestamp; they are kept" in (
        caplog.text
    )


def test_count_duplicate_rows_compares_all_three_columns():
    df = _expected([1, 1, 1, 2, 1, 1], [5, 5, 6, 5, 5, 5], [9, 8, 9, 9, 9, 9])
    assert readers.count_duplicate_rows(df) == 2
    assert readers.count_duplicate_rows(df.iloc[:4]) == 0


@pytest.mark.parametrize("fmt", sorted(DELIMITED))
def test_delimited_non_numeric_rating_names_line(tmp_path, fmt):
    path, first = _write_delimited(tmp_path, fmt, [GOOD_ROWS[0], ["1", "2", "good", "7"]])
    with pytest.raises(
        DataError, match=rf"^{re.escape(str(path))}:{first + 1}: .* 'good' is not a number$"
    ):
        readers.read_interactions(path, fmt)


@pytest.mark.parametrize("fmt", sorted(DELIMITED))
def test_delimited_id_beyond_int64_names_line(tmp_path, fmt):
    path, first = _write_delimited(tmp_path, fmt, [["1", "2", "3", "99999999999999999999"]])
    with pytest.raises(
        DataError, match=rf"^{re.escape(str(path))}:{first}: .* does not fit in 64 bits$"
    ):
        readers.read_interactions(path, fmt)


@pytest.mark.parametrize("fmt", sorted(DELIMITED))
def test_rescan_in_blocks_counts_lines_across_blocks(tmp_path, fmt, monkeypatch):
    monkeypatch.setattr(readers, "_BLOCK_LINES", 2)
    rows = GOOD_ROWS * 3 + [["9", "x", "1", "2"]] + GOOD_ROWS
    path, first = _write_delimited(tmp_path, fmt, rows)
    # Blank lines inside blocks still count.
    path.write_text(path.read_text().replace("\n", "\n\n", 2))
    with pytest.raises(DataError, match=rf"^{re.escape(str(path))}:{first + 11}: .* 'x' is not"):
        readers.read_interactions(path, fmt)


def test_csv_wrong_header_names_expected_header(tmp_path):
    path = _write(tmp_path, "user,item,rating,timestamp\n1,2,3,4\n")
    with pytest.raises(DataError) as info:
        readers.read_movielens_csv(path)
    assert str(info.value) == (
        f"{path}:1: expected the header 'userId,movieId,rating,timestamp', "
        "got 'user,item,rating,timestamp'"
    )


@pytest.mark.parametrize(
    "line, fmt",
    [
        ("196\t242\t3\t881250949", "ml100k"),  # ml-100k's u.data
        ("1::1193::5::978300760", "movielens_dat"),
        ("1 1193 661 914", "sequences"),
        ("0,0,0,1193,661", "padded"),
    ],
)
def test_a_file_of_another_format_names_the_format_that_reads_it(tmp_path, line, fmt):
    path = _write(tmp_path, f"{line}\n{line}\n")
    with pytest.raises(DataError, match="expected the header") as info:
        readers.read_movielens_csv(path)
    assert str(info.value).endswith(f": --data_format={fmt})"), info.value
    with pytest.raises(DataError) as info:  # no hint where the format itself is the right one
        readers.read_movielens_csv(_write(tmp_path, "1,2,3.0,4\n"))
    assert "--data_format" not in str(info.value)


def test_a_line_of_another_separator_names_the_format_that_reads_it(tmp_path):
    path = _write(tmp_path, "1::1193::5::978300760\n")
    with pytest.raises(DataError, match=r"'::'-separated: --data_format=movielens_dat\?\)"):
        readers.read_ml100k(path)


def test_csv_without_header_is_an_error(tmp_path):
    path = _write(tmp_path, "1,2,3.0,4\n")
    with pytest.raises(DataError, match="expected the header 'userId,movieId,rating,timestamp'"):
        readers.read_movielens_csv(path)


def test_csv_accepts_windows_line_endings_and_bom(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_bytes(b"\xef\xbb\xbfuserId,movieId,rating,timestamp\r\n5,6,1.0,7\r\n")
    pd.testing.assert_frame_equal(readers.read_movielens_csv(path), _expected([5], [6], [7]))


def test_csv_header_only_is_empty(tmp_path):
    path = _write(tmp_path, "userId,movieId,rating,timestamp\n\n")
    with pytest.raises(DataError, match=rf"^{re.escape(str(path))}: .*is empty$"):
        readers.read_movielens_csv(path)


ALL_FORMATS = sorted(readers.READERS)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
@pytest.mark.parametrize("text", ["", "\n\n", "  \n"])
def test_empty_file_is_an_error(tmp_path, fmt, text):
    path = _write(tmp_path, text)
    with pytest.raises(DataError, match=rf"^{re.escape(str(path))}: .*is empty$"):
        readers.read_interactions(path, fmt)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_missing_file_is_an_error(tmp_path, fmt):
    path = tmp_path / "nope.txt"
    with pytest.raises(DataError) as info:
        readers.read_interactions(path, fmt)
    assert str(info.value) == f"{path}: no such file"


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_missing_file_of_a_known_data_set_says_how_to_download_it(tmp_path, fmt):
    path = tmp_path / "data" / "ml-20m" / "ratings.csv"
    with pytest.raises(DataError) as info:
        readers.read_interactions(path, fmt)
    assert str(info.value) == (
        f"{path}: no such file; download it with "
        f"`python tools/download_data.py ml-20m --data_dir={tmp_path / 'data'}`"
    )


def test_the_downloadable_data_sets_are_those_of_the_download_tool():
    spec = importlib.util.spec_from_file_location("download_data", TOOLS / "download_data.py")
    download_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(download_data)
    assert files.DOWNLOADABLE == tuple(download_data.KNOWN_MD5)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
@pytest.mark.parametrize(
    "compress, kind",
    [
        (gzip.compress, "gzip-compressed, not text; decompress it first (gunzip)"),
        (bz2.compress, "bzip2-compressed, not text; decompress it first (bunzip2)"),
        (_zipped, "like a zip archive, not text; unzip it and give the ratings file inside"),
    ],
    ids=["gzip", "bzip2", "zip"],
)
def test_compressed_file_is_named_as_such(tmp_path, fmt, compress, kind):
    path = tmp_path / "ratings.csv.gz"
    path.write_bytes(compress(b"userId,movieId,rating,timestamp\n1,2,3.0,4\n"))
    with pytest.raises(DataError) as info:
        readers.read_interactions(path, fmt)
    assert str(info.value) == f"{path}: looks {kind}"


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_binary_file_is_named_as_such(tmp_path, fmt):
    path = tmp_path / "ratings.npy"
    path.write_bytes(b"1,2,3\n" + bytes(range(256)))
    with pytest.raises(DataError, match=rf"^{re.escape(str(path))}: looks binary, not text"):
        readers.read_interactions(path, fmt)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_directory_is_an_error(tmp_path, fmt):
    with pytest.raises(DataError, match="not a regular file"):
        readers.read_interactions(tmp_path, fmt)


def test_unknown_format_lists_known_ones(tmp_path):
    with pytest.raises(DataError) as info:
        readers.read_interactions(tmp_path / "x", "parquet")
    message = str(info.value)
    assert "'parquet'" in message
    for fmt in readers.READERS:
        assert fmt in message


def test_user_sequences_timestamps_are_positions(tmp_path):
    path = _write(tmp_path, "7 3 1 3\n\n2 9\n")
    df = readers.read_user_sequences(path)
    pd.testing.assert_frame_equal(df, _expected([7, 7, 7, 2], [3, 1, 3, 9], [0, 1, 2, 0]))


def test_user_sequences_skips_and_logs_users_without_items(tmp_path, caplog):
    path = _write(tmp_path, "1 5 6\n2\n3 7\n")
    with caplog.at_level("INFO"):
        df = readers.read_user_sequences(path)
    assert df["user"].tolist() == [1, 1, 3]
    assert "skipped 1 users listed without any item" in caplog.text


@pytest.mark.parametrize(
    "line, message",
    [("4 5 x6 7", "item id 'x6' is not an integer"), ("u4 5", "user id 'u4' is not an integer")],
)
def test_user_sequences_bad_token_names_line_and_token(tmp_path, line, message):
    path = _write(tmp_path, f"1 2 3\n\n{line}\n")
    with pytest.raises(DataError) as info:
        readers.read_user_sequences(path)
    assert str(info.value) == f"{path}:3: {message}"


@pytest.mark.parametrize(
    "fmt, text, message",
    [
        ("sequences", "1 2 3\n2 -3 4\n", "item id -3 in column 2 is negative"),
        ("sequences", "1 2 3\n-2 3 4\n", "user id -2 in column 1 is negative"),
        ("padded", "0,1,2\n0,-3,4\n", "item id -3 in column 2 is negative"),
        ("sequences", "1 2 3\n2 99999999999999999999\n", "item id 99999999999999999999 does"),
        ("padded", "0,1,2\n0,99999999999999999999\n", "item id 99999999999999999999 does"),
        ("sequences", "1 2 3\n2,3,4\n", "user id '2,3,4' is not an integer"),
        ("padded", "0,1,2\n0 3 4\n", "item id '0 3 4' is not an integer"),
        ("sequences", "1 2 3\nuser items\n", "user id 'user' is not an integer"),
    ],
    ids=[
        "seq_negative_item",
        "seq_negative_user",
        "padded_negative",
        "seq_beyond_int64",
        "padded_beyond_int64",
        "seq_commas",
        "padded_spaces",
        "seq_header",
    ],
)
def test_sequence_formats_bad_id_names_line(tmp_path, fmt, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(DataError) as info:
        readers.read_interactions(path, fmt)
    assert str(info.value).startswith(f"{path}:2: {message}")


@pytest.mark.parametrize("fmt, text", [("sequences", "1 2 3\n2 3 4\n"), ("padded", "0,2,3\n3,4\n")])
def test_sequence_formats_latin1_bytes_name_line(tmp_path, fmt, text):
    path = tmp_path / "data.txt"
    path.write_bytes(text.replace("4", "4\xe9").encode("latin-1"))
    with pytest.raises(DataError) as info:
        readers.read_interactions(path, fmt)
    assert str(info.value) == (
        f"{path}:2: item id '4\ufffd' is not an integer "
        "(it holds bytes that are not UTF-8, shown as \ufffd: a Latin-1 file?)"
    )


@pytest.mark.parametrize(
    "fmt, text, expected",
    [
        ("sequences", "1 2 3\r\n2 3 4\r\n", ([1, 1, 2, 2], [2, 3, 3, 4], [0, 1, 0, 1])),
        ("padded", "0,2,3\r\n3,4,5\r\n", ([0, 0, 1, 1, 1], [2, 3, 3, 4, 5], [1, 2, 0, 1, 2])),
    ],
)
def test_sequence_formats_windows_line_endings_read_like_unix_ones(tmp_path, fmt, text, expected):
    path = tmp_path / "data.txt"
    path.write_bytes(text.encode())
    pd.testing.assert_frame_equal(readers.read_interactions(path, fmt), _expected(*expected))


def test_user_sequences_repeated_user_is_an_error(tmp_path):
    path = _write(tmp_path, "1 2 3\n1 4\n")
    with pytest.raises(
        DataError, match=rf"^{re.escape(str(path))}:2: user 1 already listed on line 1$"
    ):
        readers.read_user_sequences(path)


def test_user_sequences_only_users_is_empty(tmp_path):
    path = _write(tmp_path, "1\n2\n")
    with pytest.raises(DataError, match="is empty"):
        readers.read_user_sequences(path)


def test_padded_sequences_drop_padding(tmp_path):
    path = _write(tmp_path, "0,0,4,5\n1,2,3,4\n0,0,0,0\n0,0,0,9\n")
    df = readers.read_padded_sequences(path)
    expected = _expected([0, 0, 1, 1, 1, 1, 3], [4, 5, 1, 2, 3, 4, 9], [2, 3, 0, 1, 2, 3, 3])
    pd.testing.assert_frame_equal(df, expected)


@pytest.mark.parametrize(
    "line, message",
    [
        ("0,0,a,5", "item id 'a' is not an integer"),
        ("0,0,4,", "item id '' is not an integer"),
        ("0,-3,4,5", "item id -3 in column 2 is negative (ids are integers >= 0)"),
    ],
)
def test_padded_sequences_bad_value_names_line(tmp_path, line, message):
    path = _write(tmp_path, f"0,1,2,3\n{line}\n")
    with pytest.raises(DataError) as info:
        readers.read_padded_sequences(path)
    assert str(info.value) == f"{path}:2: {message}"


def test_padded_sequences_all_padding_is_empty(tmp_path):
    path = _write(tmp_path, "0,0,0\n0,0,0\n")
    with pytest.raises(DataError, match="is empty"):
        readers.read_padded_sequences(path)
