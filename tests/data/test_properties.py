"""Property tests of the data path: random interaction logs written in each reader's format go
through the reader and the paper's protocol and are compared with a plain-Python model of it.

The invariants: the reader returns every row of the file in file order; filtering reaches the
unique largest subset meeting both thresholds and every dropped row, user and item is counted
(returned and logged); re-indexing is a bijection of the kept raw ids onto 1..V in ascending
order, 0 being padding; each user's items keep their time order, ties in file order; the cut
drops only chunks (users) with fewer than 2 items and counts them; the splits partition the rows.
"""

import collections
import contextlib
import logging
import os
import re
import tempfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from skiprec_tf.config import DataConfig
from skiprec_tf.data import loading, preprocess, readers, sources
from skiprec_tf.errors import DataError

INT64_MAX = 2**63 - 1
# Raw ids: mostly small (so that users and items repeat), sometimes anywhere in int64's range.
IDS = st.one_of(st.integers(0, 40), st.integers(0, INT64_MAX))
# Timestamps: mostly a few values (many ties), sometimes extreme (the lexsort path of the sort).
TIMES = st.one_of(st.integers(-2, 3), st.integers(-(2**63), INT64_MAX))
RATINGS = st.sampled_from(["4.0", "3.5", "5", "0.5", "", "1e0", "-1"])
DELIMITED = {
    "movielens_csv": ("userId,movieId,rating,timestamp", ","),
    "movielens_dat": (None, "::"),
    "ml100k": (None, "\t"),
}
FORMATS = (*DELIMITED, "sequences", "padded")


@contextlib.contextmanager
def absl_messages():
    """Collects the INFO and higher messages logged through absl while the block runs."""
    messages = []

    class Collect(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    logger, handler = logging.getLogger("absl"), Collect(logging.INFO)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def logged(messages, pattern):
    """The int groups of the one message matching `pattern` (searched)."""
    found = [m for m in (re.search(pattern, text) for text in messages) if m]
    assert len(found) == 1, (pattern, messages)
    return tuple(int(g) for g in found[0].groups() if g.lstrip("-").isdigit())


@st.composite
def delimited_files(draw, fmt):
    """(file text, expected reader rows (user, item, timestamp), skipped lines) of a 4-field log."""
    header, sep = DELIMITED[fmt]
    users = draw(st.lists(IDS, min_size=1, max_size=6, unique=True))
    items = draw(st.lists(IDS, min_size=1, max_size=8, unique=True))
    row = st.tuples(st.sampled_from(users), st.sampled_from(items), TIMES, RATINGS)
    rows = draw(st.lists(row, min_size=1, max_size=80))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [header] if header else []
    lines += [sep.join(map(str, (user, item, rating, time))) for user, item, time, rating in rows]
    text = newline.join(lines) + draw(st.sampled_from(["", newline, newline * 2]))
    return text, [r[:3] for r in rows], 0


@st.composite
def sequences_files(draw):
    """`user item item ...` lines, users unique, some listed without items (skipped, counted)."""
    users = draw(st.lists(IDS, min_size=1, max_size=8, unique=True))
    items = draw(st.lists(IDS, min_size=1, max_size=8, unique=True))
    space = st.sampled_from([" ", "  ", "\t"])
    lines, rows, skipped = [], [], 0
    for user in users:
        line = draw(st.lists(st.sampled_from(items), max_size=12))
        lines.append(str(user) + "".join(draw(space) + str(item) for item in line))
        rows += [(user, item, position) for position, item in enumerate(line)]
        skipped += not line
    return "\n".join(lines) + "\n", rows, skipped


@st.composite
def padded_files(draw):
    """Comma-separated pre-padded lines; the user is the 0-based line number, blank lines count."""
    items = draw(st.lists(st.integers(1, INT64_MAX) | st.integers(1, 40), min_size=1, max_size=8))
    lines = draw(
        st.lists(st.lists(st.sampled_from([0, *items]), max_size=10), min_size=1, max_size=10)
    )
    rows, skipped = [], 0
    for user, line in enumerate(lines):
        rows += [(user, item, position) for position, item in enumerate(line) if item]
        skipped += bool(line) and not any(line)  # a blank line is not a sequence
    return "\n".join(",".join(map(str, line)) for line in lines) + "\n", rows, skipped


def files_of(fmt):
    if fmt in DELIMITED:
        return delimited_files(fmt)
    return sequences_files() if fmt == "sequences" else padded_files()


@st.composite
def protocols(draw):
    """Options of the protocol; fractions from integer weights (some zero), summing to 1."""
    weights = draw(st.tuples(st.integers(1, 8), st.integers(0, 8), st.integers(0, 8)))
    weights = draw(st.permutations(weights))  # any one may be 0, not all
    return {
        "min_user_items": draw(st.integers(0, 4)),
        "min_item_users": draw(st.integers(0, 4)),
        "seq_len": draw(st.integers(2, 6)),
        "cut": draw(st.sampled_from(preprocess.CUTS)),
        "fractions": tuple(w / sum(weights) for w in weights),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


def model_filter(rows, min_user_items, min_item_users):
    """The largest subset of `rows` (in file order) meeting both thresholds, filtering items
    first: the fixed point does not depend on the order."""
    while True:
        per_item = collections.Counter(item for _, item, _ in rows)
        kept = [r for r in rows if per_item[r[1]] >= min_item_users]
        per_user = collections.Counter(user for user, _, _ in kept)
        kept = [r for r in kept if per_user[r[0]] >= min_user_items]
        if kept == rows:
            return kept
        rows = kept


def model_sequences(rows, seq_len, cut):
    """(raw item ids by internal id, [(user, row)] by user then oldest chunk, dropped count)."""
    item_ids = [0, *sorted({item for _, item, _ in rows})]
    internal = {raw: i for i, raw in enumerate(item_ids) if i}
    per_user = collections.defaultdict(list)
    for position, (user, item, time) in enumerate(rows):
        per_user[user].append((time, position, internal[item]))
    sequences, dropped = [], 0
    for user in sorted(per_user):
        items = [item for _, _, item in sorted(per_user[user])]  # time, then file order
        ends = [len(items)] if cut == "latest" else range(len(items), 0, -seq_len)
        for end in reversed(ends):
            chunk = items[max(0, end - seq_len) : end]
            if len(chunk) < 2:
                dropped += 1
                continue
            sequences.append((user, [0] * (seq_len - len(chunk)) + chunk))
    return item_ids, sequences, dropped


def outcome(function, *args, **kwargs):
    """`function(*args, **kwargs)`, or the `DataError` it raised."""
    try:
        return function(*args, **kwargs)
    except DataError as error:
        return error


def written(text):
    """Path of a new temporary file holding `text` (removed by the caller)."""
    fd, path = tempfile.mkstemp(suffix=".txt", prefix="skiprec_properties_")
    with os.fdopen(fd, "w", newline="") as file:
        file.write(text)
    return path


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=100, deadline=None, database=None)
@given(data=st.data())
def test_a_random_log_goes_through_the_protocol_as_the_model_says(fmt, data):
    """Read rows = the file's rows in order (skipped lines logged); read = kept + dropped by each
    filter (logged); the cut's dropped chunks + non-padding entries = kept rows (subsequences);
    item_ids is 0 then the kept raw ids ascending; each split is the model's rows (each user's
    items by time, ties in file order) at `split_sequences`' indices, which partition them;
    `sources.load_data` gives the same, or a `DataError` naming an empty split; nothing left is a
    `DataError` saying so."""
    text, rows, skipped = data.draw(files_of(fmt), label="file")
    options = data.draw(protocols(), label="protocol")
    path = written(text)
    try:
        with absl_messages() as messages:
            try:
                df = readers.read_interactions(path, fmt)
            except DataError as error:
                assert not rows and str(error).endswith("is empty"), error
                event("an empty file")
                return
        assert df.dtypes.tolist() == [np.int64] * 3
        assert list(df.itertuples(index=False, name=None)) == rows
        assert logged(messages, r"^Read (\d+) interactions \((\d+) users, (\d+) items\)") == (
            len(rows),
            len({r[0] for r in rows}),
            len({r[1] for r in rows}),
        )
        if skipped:
            assert logged(messages, r"skipped (\d+) (users listed|sequences made)") == (skipped,)
        duplicates = len(rows) - len(set(rows))
        if duplicates:
            assert logged(messages, r": (\d+) rows repeat an earlier row's") == (duplicates,)
        with absl_messages() as messages:
            result = outcome(loading.load_sequence_data, path, fmt, cache_dir=None, **options)
        config = DataConfig(format=fmt, path=path, cache_dir=None, **options)
        loaded = outcome(sources.load_data, config)
    finally:
        os.remove(path)
    kept = model_filter(rows, options["min_user_items"], options["min_item_users"])
    dropped = [
        logged(messages, rf"^Filter {what} with < \d+ \w+ dropped (\d+) rows, (\d+) users, (\d+)")
        for what in ("users", "items")
    ]
    assert len(kept) + dropped[0][0] + dropped[1][0] == len(rows)
    assert len({r[0] for r in kept}) + dropped[0][1] + dropped[1][1] == len({r[0] for r in rows})
    assert len({r[1] for r in kept}) + dropped[0][2] + dropped[1][2] == len({r[1] for r in rows})
    if not kept:
        assert isinstance(result, DataError), result
        assert str(result).startswith("no interactions left after filtering"), result
        assert str(loaded) == str(result)
        event("filtered to nothing")
        return
    item_ids, sequences, dropped_chunks = model_sequences(kept, options["seq_len"], options["cut"])
    cut = logged(messages, r"^Cut (\d+) users into (\d+) sequences .*; dropped (\d+) (\w+)")
    assert cut == (len({r[0] for r in kept}), len(sequences), dropped_chunks)
    if not sequences:
        assert isinstance(result, DataError), result
        assert str(result).startswith("no sequences with at least 2 items"), result
        assert str(loaded) == str(result)
        event("no sequence of 2 items")
        return
    parts = preprocess.split_sequences(len(sequences), options["fractions"], options["seed"])
    assert logged(messages, r"^Built (\d+) sequences \((\d+) train, (\d+) valid, (\d+) test\)") == (
        len(sequences),
        *(len(p) for p in parts),
    )
    assert not isinstance(result, DataError), result
    assert result.num_interactions == len(kept)
    assert result.item_ids.tolist() == item_ids
    assert result.num_items == len(item_ids) - 1 and result.seq_len == options["seq_len"]
    if options["cut"] == "subsequences":
        assert sum(np.count_nonzero(s) for _, s in sequences) + dropped_chunks == len(kept)
    for split, indices in zip(("train", "valid", "test"), parts):
        rows_of_split = getattr(result, split)
        assert rows_of_split.dtype == np.int32 and rows_of_split.shape[1] == options["seq_len"]
        assert rows_of_split.tolist() == [sequences[i][1] for i in indices], split
        assert getattr(result, f"{split}_users").tolist() == [sequences[i][0] for i in indices]
    empty = [split for split, p in zip(("train", "valid", "test"), parts) if not len(p)]
    if empty:
        assert isinstance(loaded, DataError), loaded
        assert str(loaded).startswith(f"{path}: the {empty[0]} split is empty"), loaded
        event("built, a split empty")
    else:
        for name in (
            "item_ids",
            "train",
            "valid",
            "test",
            "train_users",
            "valid_users",
            "test_users",
        ):
            assert np.array_equal(getattr(loaded, name), getattr(result, name)), name
        event("built")


@st.composite
def frames(draw):
    """Reader-style frames of up to 300 rows over few users and items."""
    n = draw(st.integers(0, 300))
    column = st.lists(st.integers(0, 12), min_size=n, max_size=n)
    return pd.DataFrame(
        {"user": draw(column), "item": draw(column), "timestamp": draw(column)}, dtype=np.int64
    )


@settings(max_examples=150, deadline=None, database=None)
@given(df=frames(), min_user_items=st.integers(0, 6), min_item_users=st.integers(0, 6))
def test_filtering_reaches_its_fixed_point_and_counts_every_drop(
    df, min_user_items, min_item_users
):
    """Every kept user has >= min_user_items rows and every kept item >= min_item_users; the kept
    rows are the largest such subset, in their original order; rows, users and items before =
    kept + dropped by the user filter + dropped by the item filter (returned and logged); nothing
    left is a `DataError` naming the thresholds."""
    rows = list(df.itertuples(index=False, name=None))
    expected = model_filter(rows, min_user_items, min_item_users)
    with absl_messages() as messages:
        try:
            kept, counts = preprocess.filter_interactions(df, min_user_items, min_item_users)
        except DataError as error:
            assert not expected
            assert str(error).startswith(
                "no interactions left after filtering "
                f"(min_user_items={min_user_items}, min_item_users={min_item_users})"
            ), error
            kept, counts = df.iloc[:0], None
    assert list(kept.itertuples(index=False, name=None)) == expected
    assert (kept["user"].value_counts() >= min_user_items).all()
    assert (kept["item"].value_counts() >= min_item_users).all()
    logs = [
        logged(messages, rf"^Filter {f} with < \d+ \w+ dropped (\d+) rows, (\d+) users, (\d+)")
        for f in ("users", "items")
    ]
    for i, what in enumerate(("rows", "users", "items")):
        before = len(df) if what == "rows" else df[what[:-1]].nunique()
        after = len(kept) if what == "rows" else kept[what[:-1]].nunique()
        assert before == after + logs[0][i] + logs[1][i], what
        if counts is not None:
            assert logs[0][i] == counts[f"user_filter_dropped_{what}"]
            assert logs[1][i] == counts[f"item_filter_dropped_{what}"]
    (rounds,) = logged(messages, r"fixed point after (\d+) round")
    assert rounds >= 1 and (counts is None or counts["rounds"] == rounds)


@settings(max_examples=150, deadline=None, database=None)
@given(df=frames())
def test_reindexing_is_a_bijection_onto_1_to_v(df):
    """`item_ids[0]` = 0 (padding), `item_ids[1:]` the distinct raw ids ascending, and every row's
    internal id maps back to its raw id; no other column or the row order changes."""
    reindexed, item_ids = preprocess.reindex_items(df)
    assert item_ids.dtype == np.int64 and item_ids[0] == 0
    assert item_ids[1:].tolist() == sorted(set(df["item"].tolist()))
    internal = reindexed["item"].to_numpy()
    assert internal.dtype == np.int64
    assert (internal >= 1).all() and (internal <= len(item_ids) - 1).all()
    assert item_ids[internal].tolist() == df["item"].tolist()
    assert set(internal.tolist()) == set(range(1, len(item_ids)))
    pd.testing.assert_frame_equal(reindexed.drop(columns="item"), df.drop(columns="item"))


@settings(max_examples=150, deadline=None, database=None)
@given(
    users=st.lists(st.sampled_from([3, 1, 2, INT64_MAX, 0]), max_size=60),
    times=st.data(),
)
def test_sort_by_time_is_stable_per_user(users, times):
    """Rows ordered by user, then timestamp, ties in their original order (both sort paths)."""
    time = st.one_of(st.integers(-2, 2), st.sampled_from([-(2**63), INT64_MAX]))
    stamps = times.draw(st.lists(time, min_size=len(users), max_size=len(users)))
    df = pd.DataFrame(
        {"user": users, "item": range(len(users)), "timestamp": stamps}, dtype=np.int64
    )
    ordered = preprocess.sort_by_time(df)
    expected = sorted(range(len(users)), key=lambda i: (users[i], stamps[i], i))
    assert ordered["item"].tolist() == expected
    grouped = preprocess.items_by_user(df)
    assert list(grouped) == sorted(set(users))
    assert [i for items in grouped.values() for i in items.tolist()] == expected


@settings(max_examples=200, deadline=None, database=None)
@given(
    n=st.integers(0, 5000),
    weights=st.tuples(st.integers(1, 20), st.integers(0, 20), st.integers(0, 20)).flatmap(
        st.permutations
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_splits_partition_the_rows(n, weights, seed):
    """train, valid and test are sorted, disjoint, cover range(n), have the sizes rounded at the
    cumulative boundaries, and are the same for the same seed."""
    fractions = tuple(w / sum(weights) for w in weights)
    parts = preprocess.split_sequences(n, fractions, seed)
    everything = np.concatenate(parts)
    assert np.array_equal(np.sort(everything), np.arange(n))
    assert all(np.array_equal(p, np.sort(p)) and p.dtype == np.int64 for p in parts)
    bounds = [0, *np.round(np.cumsum(fractions)[:2] * n).astype(int), n]
    assert [len(p) for p in parts] == np.diff(bounds).tolist()
    again = preprocess.split_sequences(n, fractions, seed)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again))
