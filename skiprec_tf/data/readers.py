"""Readers for the raw interaction logs: each returns int64 `user`, `item`, `timestamp` columns.

Every reader takes a path and returns a `pandas.DataFrame` with the raw ids as they appear in the
file, rows in file order. Bad input raises `DataError` naming the file and, where known, the line.
"""

import io
import re

import numpy as np
import pandas as pd
from absl import logging

from skiprec_tf.data import files
from skiprec_tf.errors import DataError

COLUMNS = ("user", "item", "timestamp")

_INT_RE = re.compile(r"^\s*[+-]?\d+\s*$")
_INT64_MIN, _INT64_MAX = np.iinfo(np.int64).min, np.iinfo(np.int64).max
_PARSE_ERRORS = (ValueError, OverflowError, TypeError, UnicodeError)
_BLOCK_LINES = 500_000
# Separators of the delimited formats, and others a wrong file may use, with their names.
_SEPARATORS = {",": "comma", "\t": "tab", "::": "'::'", ";": "semicolon", "|": "'|'"}

# Field names of the three delimited MovieLens layouts, in file order; all are
# `user, item, rating, timestamp`, so fields 0, 1 and 3 become the output columns.
_CSV_FIELDS = ("userId", "movieId", "rating", "timestamp")
_DAT_FIELDS = ("UserID", "MovieID", "Rating", "Timestamp")
_U_DATA_FIELDS = ("user", "item", "rating", "timestamp")
_CSV_HEADER = ",".join(_CSV_FIELDS)


def read_movielens_csv(path):
    """Reads a MovieLens `ratings.csv` (ml-latest-small, ML-20M, ML-25M).

    Args:
      path: file with the header `userId,movieId,rating,timestamp`.

    Returns:
      DataFrame with int64 columns `user`, `item`, `timestamp`.

    Raises:
      DataError: missing or empty file, wrong header, or a malformed line (named by number).
    """
    path = files.check_file(path)
    lineno, header = _first_line(path)
    if header is None:
        raise DataError(f"{path}: the file is empty")
    if header.replace(" ", "") != _CSV_HEADER:
        raise DataError(
            f"{path}:{lineno}: expected the header '{_CSV_HEADER}', got '{header[:80]}'"
            f"{format_hint(header, 'movielens_csv')}"
        )
    return _read_delimited(path, path, sep=",", fields=_CSV_FIELDS, first_line=lineno + 1)


def read_movielens_dat(path):
    """Reads an ML-1M / ML-10M `ratings.dat`: `UserID::MovieID::Rating::Timestamp`, no header.

    The `::` separator is rewritten to a tab in memory so that pandas' fast C parser can be used
    (a multi-character separator would force the slow Python engine).
    """
    path = files.check_file(path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: {exc.strerror}") from exc
    source = io.BytesIO(text.replace(b"::", b"\t"))
    return _read_delimited(path, source, sep="::", fields=_DAT_FIELDS, first_line=1)


def read_ml100k(path):
    """Reads ml-100k's `u.data`: tab-separated `user item rating timestamp`, no header."""
    path = files.check_file(path)
    return _read_delimited(path, path, sep="\t", fields=_U_DATA_FIELDS, first_line=1)


def read_user_sequences(path):
    """Reads one user per line, `user_id item_id item_id ...`, items in time order (`Beauty.txt`).

    The timestamp of an item is its position within the line (0, 1, 2, ...). Users listed without
    any item are skipped and counted in the log.

    Raises:
      DataError: a token that is not an integer, or a user listed on two lines.
    """
    path = files.check_file(path)
    users, items, times = [], [], []
    seen, no_items = {}, 0
    for lineno, line in _numbered_lines(path):
        tokens = line.split()
        if not tokens:
            continue
        ids = _parse_ints(path, lineno, tokens, names=("user id",), rest="item id")
        _check_not_negative(path, lineno, ids, names=("user id",), rest="item id")
        user = ids[0]
        if user in seen:
            raise DataError(f"{path}:{lineno}: user {user} already listed on line {seen[user]}")
        seen[user] = lineno
        if len(ids) == 1:
            no_items += 1
            continue
        users.append(np.full(len(ids) - 1, user, dtype=np.int64))
        items.append(np.asarray(ids[1:], dtype=np.int64))
        times.append(np.arange(len(ids) - 1, dtype=np.int64))
    if no_items:
        logging.info("%s: skipped %d users listed without any item", path, no_items)
    return _frame_from_parts(path, users, items, times)


def read_padded_sequences(path):
    """Reads the SkipRec/NextItNet authors' format: one pre-padded sequence per line.

    Each line is comma-separated integer item ids with 0 as (leading) padding. The user is the
    0-based line index, the timestamp the position in the line; padding zeros are not interactions.
    """
    path = files.check_file(path)
    users, items, times = [], [], []
    all_padding = 0
    for lineno, line in _numbered_lines(path):
        if not line.strip():
            continue
        ids = np.asarray(_parse_ints(path, lineno, line.split(","), rest="item id"), np.int64)
        _check_not_negative(path, lineno, ids, rest="item id")
        positions = np.flatnonzero(ids)
        if not len(positions):
            all_padding += 1
            continue
        users.append(np.full(len(positions), lineno - 1, dtype=np.int64))
        items.append(ids[positions])
        times.append(positions.astype(np.int64))
    if all_padding:
        logging.info("%s: skipped %d sequences made only of padding", path, all_padding)
    return _frame_from_parts(path, users, items, times)


READERS = {
    "movielens_csv": read_movielens_csv,
    "movielens_dat": read_movielens_dat,
    "ml100k": read_ml100k,
    "sequences": read_user_sequences,
    "padded": read_padded_sequences,
}


def read_interactions(path, fmt):
    """Reads `path` with the reader registered under `fmt` in `READERS`.

    Raises:
      DataError: unknown `fmt` (the message lists the known ones) or bad input.
    """
    check_format(fmt)
    df = READERS[fmt](path)
    logging.info(
        "Read %d interactions (%d users, %d items) from %s",
        len(df),
        df["user"].nunique(),
        df["item"].nunique(),
        path,
    )
    duplicates = count_duplicate_rows(df)
    if duplicates:
        logging.warning(
            "%s: %d rows repeat an earlier row's user, item and timestamp; they are kept, each "
            "an interaction (the protocol does not deduplicate)",
            path,
            duplicates,
        )
    return df


def count_duplicate_rows(df):
    """The number of rows whose (user, item, timestamp) equals that of an earlier row.

    A hash of the three columns is sorted (under a second on ML-20M, where pandas' `duplicated`
    takes several); only rows whose hash repeats are compared exactly.
    """
    columns = [df[c].to_numpy(dtype=np.int64).view(np.uint64) for c in COLUMNS]
    with np.errstate(over="ignore"):
        key = columns[0] * np.uint64(0x9E3779B97F4A7C15)
        key ^= columns[1] * np.uint64(0xC2B2AE3D27D4EB4F)
        key ^= columns[2]
    ordered = np.sort(key)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(repeated):
        return 0
    candidates = df[np.isin(key, repeated)]
    return int(candidates.duplicated(subset=list(COLUMNS)).sum())


def check_format(fmt):
    """Raises `DataError` listing the known formats unless `fmt` is one of them."""
    if fmt not in READERS:
        raise DataError(f"unknown data format {fmt!r}; known formats: {', '.join(READERS)}")


def _first_line(path):
    """Returns `(lineno, text)` of the first non-blank line, or `(0, None)` for a blank file."""
    for lineno, line in _numbered_lines(path):
        if line.strip():
            return lineno, line.strip()
    return 0, None


def _numbered_lines(path):
    """Yields `(lineno, line)` for every line, numbered from 1; undecodable bytes are replaced."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            yield from enumerate(f, start=1)
    except OSError as exc:
        raise DataError(f"{path}: {exc.strerror}") from exc


def _read_delimited(path, source, *, sep, fields, first_line):
    """Parses a 4-field `user, item, rating, timestamp` file with pandas' C parser.

    Only when the fast path fails is the file re-scanned to name the first bad line.

    Args:
      path: the file, for messages and the re-scan.
      source: what pandas reads (`path`, or an in-memory rewrite of it).
      sep: the separator as written in the file (the re-scan splits on it).
      fields: the four field names, for messages.
      first_line: line number of the first data line (2 after a header).
    """
    try:
        df = _parse_c(source, sep=sep, fields=fields, skiprows=first_line - 1)
    except _PARSE_ERRORS as exc:
        _raise_first_bad_line(path, sep=sep, fields=fields, first_line=first_line)
        raise DataError(f"{path}: could not parse the file ({exc})") from exc
    if df.empty:
        raise DataError(f"{path}: no interactions: the file is empty")
    if _has_negative_ids(df, fields):
        _raise_first_bad_line(path, sep=sep, fields=fields, first_line=first_line)
    df = df.drop(columns=fields[2])
    df.columns = list(COLUMNS)
    return df.astype(np.int64)


def _parse_c(source, *, sep, fields, skiprows=0):
    """Runs pandas' C parser with int64 ids and timestamp and a float64 rating."""
    try:
        return pd.read_csv(
            source,
            sep="\t" if sep == "::" else sep,
            header=None,
            names=list(fields),
            skiprows=skiprows,
            dtype=dict(zip(fields, (np.int64, np.int64, np.float64, np.int64))),
            engine="c",
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=list(fields))


def _raise_first_bad_line(path, *, sep, fields, first_line):
    """Raises `DataError` naming the first line that breaks the 4-field layout, if any.

    Blocks of lines that pandas parses are skipped; only a failing block is checked line by
    line in Python, so finding a bad line near the end of ML-20M takes seconds, not a minute.
    """
    for start, lines in _line_blocks(path, first_line, _BLOCK_LINES):
        if _parses("".join(lines), sep=sep, fields=fields):
            continue
        for lineno, line in enumerate(lines, start=start):
            if line.strip():
                _check_line(path, lineno, line, sep=sep, fields=fields)


def _parses(text, *, sep, fields):
    """True if pandas' C parser accepts `text` and its ids are not negative."""
    try:
        df = _parse_c(
            io.StringIO(text.replace("::", "\t") if sep == "::" else text), sep=sep, fields=fields
        )
    except _PARSE_ERRORS:
        return False
    return not _has_negative_ids(df, fields)


def _has_negative_ids(df, fields):
    """True if a user or item id (the first two fields) of the parsed `df` is negative."""
    return bool((df[list(fields[:2])].to_numpy() < 0).any())


def _line_blocks(path, first_line, size):
    """Yields `(number of the first line, list of lines)` blocks from line `first_line` on."""
    block, start = [], first_line
    for lineno, line in _numbered_lines(path):
        if lineno < first_line:
            continue
        block.append(line)
        if len(block) == size:
            yield start, block
            block, start = [], lineno + 1
    if block:
        yield start, block


def _check_line(path, lineno, line, *, sep, fields):
    """Raises `DataError` if `line` is not 4 `sep`-separated fields of the right types."""
    values = line.rstrip("\r\n").split(sep)
    if len(values) != len(fields):
        raise DataError(
            f"{path}:{lineno}: expected {len(fields)} {_SEPARATORS[sep]}-separated fields, "
            f"got {len(values)}{_other_separator(line, sep, len(fields))}"
        )
    ids = []
    for name, value in zip(fields, values):
        if name.lower() == "rating":
            _check_float(path, lineno, name, value)
        else:
            ids.append(_parse_int(path, lineno, name, value))
    _check_not_negative(path, lineno, ids[:2], names=fields[:2])


def _other_separator(line, sep, n_fields):
    """` (the line looks <name>-separated ...)` if another separator splits `line` into
    `n_fields`, with the data format that reads such lines where one does."""
    for other, name in _SEPARATORS.items():
        if other != sep and len(line.strip().split(other)) == n_fields:
            fmt = _format_of_line(line)
            suggestion = f"--data_format={fmt}?" if fmt else "is the data format right?"
            return f" (the line looks {name}-separated: {suggestion})"
    return ""


# The data lines of each data format.
_LAYOUTS = (
    ("movielens_csv", re.compile(r"^\s*\d+,\d+,[\d.]+,\d+\s*$")),
    ("movielens_dat", re.compile(r"^\s*\d+::\d+::[\d.]+::\d+\s*$")),
    ("ml100k", re.compile(r"^\s*\d+\t\d+\t[\d.]+\t\d+\s*$")),
    ("padded", re.compile(r"^\s*\d+(,\d+){2,}\s*$")),
    ("sequences", re.compile(r"^\s*\d+( \d+)+\s*$")),
)


def _format_of_line(line):
    """The data format whose files have lines like `line`, or None."""
    return next((fmt for fmt, layout in _LAYOUTS if layout.match(line)), None)


def format_hint(line, fmt):
    """` (its lines look like <a layout>: --data_format=<other>)` when `line`, a line of a file that
    `fmt` cannot read, has the layout of another data format; else ''."""
    other = _format_of_line(line)
    if other is None or other == fmt:
        return ""
    return f" (its lines look like {_LAYOUT_NAMES[other]}: --data_format={other})"


_LAYOUT_NAMES = {
    "movielens_csv": "a MovieLens ratings.csv's, comma-separated",
    "movielens_dat": "ML-1M / ML-10M ratings.dat, '::'-separated",
    "ml100k": "ml-100k's u.data, tab-separated",
    "padded": "one comma-separated padded sequence per line",
    "sequences": "one user and their items per line, space-separated",
}


def _check_not_negative(path, lineno, ids, *, names=(), rest=None):
    """Raises `DataError` naming the first negative id (`names` as in `_parse_ints`)."""
    for i, value in enumerate(ids):
        if value < 0:
            name = names[i] if i < len(names) else rest
            raise DataError(
                f"{path}:{lineno}: {name} {value} in column {i + 1} is negative "
                "(ids are integers >= 0)"
            )


def _parse_int(path, lineno, name, token):
    """Returns `token` as an int, or raises `DataError` naming the line and the field."""
    if not _INT_RE.match(token):
        raise DataError(
            f"{path}:{lineno}: {name} {token.strip()[:40]!r} is not an integer{_not_utf8(token)}"
        )
    value = int(token)
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise DataError(f"{path}:{lineno}: {name} {value} does not fit in 64 bits")
    return value


def _parse_ints(path, lineno, tokens, *, names=(), rest):
    """Parses all `tokens`; the first are called `names`, the others `rest`, in messages."""
    try:
        values = [int(token) for token in tokens]
        if all(_INT64_MIN <= v <= _INT64_MAX for v in values):
            return values
    except ValueError:
        pass
    for i, token in enumerate(tokens):
        _parse_int(path, lineno, names[i] if i < len(names) else rest, token)
    raise DataError(f"{path}:{lineno}: could not parse the line")


def _check_float(path, lineno, name, token):
    """Raises `DataError` unless `token` is a number or empty (a missing rating is harmless)."""
    if not token.strip():
        return
    try:
        float(token)
    except ValueError:
        raise DataError(
            f"{path}:{lineno}: {name} {token.strip()[:40]!r} is not a number{_not_utf8(token)}"
        ) from None


def _not_utf8(token):
    """A note for a token holding bytes that were not UTF-8 (replaced by U+FFFD when read)."""
    if "\ufffd" in token:
        return " (it holds bytes that are not UTF-8, shown as \ufffd: a Latin-1 file?)"
    return ""


def _frame_from_parts(path, users, items, times):
    """Concatenates per-line arrays into the reader output; no interactions is an error."""
    if not users:
        raise DataError(f"{path}: no interactions: the file is empty")
    return pd.DataFrame(
        {
            "user": np.concatenate(users),
            "item": np.concatenate(items),
            "timestamp": np.concatenate(times),
        }
    )
