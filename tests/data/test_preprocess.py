"""Tests for skiprec_tf.data.preprocess (and the Table 1 text in stats) on hand-checked examples."""

import numpy as np
import pandas as pd
import pytest
from data_testing import tiny_sequence_data

from skiprec_tf.data import preprocess
from skiprec_tf.errors import ConfigError, DataError


def _frame(rows):
    """`rows` of (user, item, timestamp) -> reader-style DataFrame."""
    return pd.DataFrame(rows, columns=["user", "item", "timestamp"], dtype=np.int64)


# min_user_items=3, min_item_users=2. Round 1 drops user 3 (2 items), then items 40 and 60
# (1 user each); that leaves user 4 with 2 items, so round 2 drops user 4. A single pass would not.
FILTER_ROWS = [
    (1, 10, 1), (1, 20, 2), (1, 30, 3),
    (2, 10, 1), (2, 20, 2), (2, 40, 3), (2, 30, 4),
    (3, 10, 1), (3, 50, 2),
    (4, 20, 1), (4, 30, 2), (4, 60, 3),
]  # fmt: skip


def test_filter_reaches_fixed_point_and_counts_drops():
    df, counts = preprocess.filter_interactions(_frame(FILTER_ROWS), 3, 2)
    assert df.values.tolist() == [
        [1, 10, 1], [1, 20, 2], [1, 30, 3], [2, 10, 1], [2, 20, 2], [2, 30, 4]
    ]  # fmt: skip
    assert counts == {
        "user_filter_dropped_rows": 4,
        "user_filter_dropped_users": 2,
        "user_filter_dropped_items": 1,
        "item_filter_dropped_rows": 2,
        "item_filter_dropped_users": 0,
        "item_filter_dropped_items": 2,
        "rounds": 2,
    }


def test_filter_logs_what_each_filter_dropped(caplog):
    with caplog.at_level("INFO"):
        preprocess.filter_interactions(_frame(FILTER_ROWS), 3, 2)
    assert "users with < 3 items dropped 4 rows, 2 users, 1 items" in caplog.text
    assert "items with < 2 users dropped 2 rows, 0 users, 2 items" in caplog.text


def test_filter_to_nothing_names_thresholds_and_the_filter_that_emptied_it():
    with pytest.raises(DataError) as info:
        preprocess.filter_interactions(_frame(FILTER_ROWS), 5, 2)
    assert str(info.value) == (
        "no interactions left after filtering (min_user_items=5, min_item_users=2): dropping "
        "users with < 5 items (the user filter) removed the last rows in round 1; before "
        "filtering 12 rows, 4 users (at most 4 items each), 6 items (at most 3 users each)"
    )


def test_filter_to_nothing_by_the_item_filter_in_a_later_round():
    # min_user_items=3, min_item_users=3: round 1 keeps users 1, 2 and 4 and drops items with
    # < 3 users (all but 20 and 30); round 2 drops every user (2 items each) first.
    with pytest.raises(DataError, match=r"users with < 3 items \(the user filter\) .* round 2;"):
        preprocess.filter_interactions(_frame(FILTER_ROWS), 3, 3)
    with pytest.raises(DataError, match=r"items with < 4 users \(the item filter\) .* round 1;"):
        preprocess.filter_interactions(_frame(FILTER_ROWS), 1, 4)


def test_filter_rejects_negative_threshold():
    with pytest.raises(ConfigError, match="min_item_users"):
        preprocess.filter_interactions(_frame(FILTER_ROWS), 3, -1)


def test_reindex_items_by_ascending_raw_id():
    df, item_ids = preprocess.reindex_items(
        _frame([(1, 30, 0), (1, 10, 1), (2, 20, 0), (2, 30, 1)])
    )
    assert df["item"].tolist() == [3, 1, 2, 3]
    assert item_ids.dtype == np.int64
    assert item_ids.tolist() == [0, 10, 20, 30]


def test_items_by_user_orders_by_time_keeping_ties_in_file_order():
    df = _frame([(7, 1, 5), (2, 9, 0), (7, 2, 3), (7, 3, 5), (7, 4, 1), (2, 8, -1)])
    grouped = preprocess.items_by_user(df)
    assert list(grouped) == [2, 7]
    assert grouped[2].tolist() == [8, 9]
    assert grouped[7].tolist() == [4, 2, 1, 3]


def test_sort_by_time_is_stable():
    df = _frame([(1, 1, 5), (1, 2, 5), (0, 3, 9), (1, 4, 2)])
    assert preprocess.sort_by_time(df)["item"].tolist() == [3, 4, 1, 2]


def test_cut_subsequences_t20_user_with_45_items_gives_three_rows():
    rows, users = preprocess.cut_sequences(
        {5: np.arange(1, 46), 6: np.arange(101, 122), 7: np.array([200])}, 20, "subsequences"
    )
    expected = [
        [0] * 15 + [1, 2, 3, 4, 5],
        list(range(6, 26)),
        list(range(26, 46)),
        # User 6 has 21 items: its oldest chunk [101] has no target and is dropped.
        list(range(102, 122)),
    ]
    assert rows.dtype == np.int32
    assert rows.tolist() == expected
    assert users.tolist() == [5, 5, 5, 6]


def test_cut_subsequences_small_literal():
    rows, users = preprocess.cut_sequences(
        {1: np.array([1, 2, 3, 4, 5, 6, 7]), 2: np.array([8, 9]), 3: np.array([4])},
        3,
        "subsequences",
    )
    # Counted from the newest item: [1] alone has no target and is dropped, as is [4].
    assert rows.tolist() == [[2, 3, 4], [5, 6, 7], [0, 8, 9]]
    assert users.tolist() == [1, 1, 2]


def test_cut_subsequences_logs_dropped_chunks(caplog):
    with caplog.at_level("INFO"):
        preprocess.cut_sequences({1: np.arange(1, 8), 2: np.array([4])}, 3, "subsequences")
    assert "into 2 sequences of length 3" in caplog.text
    assert "dropped 2 chunks with < 2 items" in caplog.text


def test_cut_latest_keeps_newest_items_per_user():
    rows, users = preprocess.cut_sequences(
        {1: np.array([1, 2, 3, 4, 5]), 2: np.array([7, 8]), 3: np.array([9])}, 3, "latest"
    )
    assert rows.tolist() == [[3, 4, 5], [0, 7, 8]]
    assert users.tolist() == [1, 2]


@pytest.mark.parametrize("seq_len", [1, 0, 2.0, True])
def test_cut_rejects_bad_seq_len(seq_len):
    with pytest.raises(ConfigError, match="seq_len"):
        preprocess.cut_sequences({1: np.array([1, 2])}, seq_len, "latest")


def test_cut_rejects_unknown_cut():
    with pytest.raises(ConfigError, match="cut must be one of subsequences, latest"):
        preprocess.cut_sequences({1: np.array([1, 2])}, 3, "sliding")


def test_cut_rejects_padding_id_as_item():
    with pytest.raises(DataError, match="0 is padding"):
        preprocess.cut_sequences({1: np.array([0, 2])}, 3, "latest")


@pytest.mark.parametrize("n, sizes", [(100, (80, 5, 15)), (7, (6, 0, 1)), (0, (0, 0, 0))])
def test_split_covers_every_row_once_with_right_sizes(n, sizes):
    parts = preprocess.split_sequences(n, (0.8, 0.05, 0.15), seed=3)
    assert tuple(len(p) for p in parts) == sizes
    assert sorted(np.concatenate(parts).tolist()) == list(range(n))


def test_split_is_deterministic_for_a_seed():
    first = preprocess.split_sequences(50, seed=1)
    again = preprocess.split_sequences(50, seed=1)
    other = preprocess.split_sequences(50, seed=2)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))


@pytest.mark.parametrize("fractions", [(0.8, 0.1, 0.15), (0.9, 0.1), (1.2, -0.2, 0.0), "abc"])
def test_split_rejects_bad_fractions(fractions):
    with pytest.raises(ConfigError, match="fractions"):
        preprocess.split_sequences(10, fractions)


def test_sequence_data_properties_and_dtypes():
    data = tiny_sequence_data()
    assert (data.num_items, data.seq_len, data.num_sequences) == (3, 3, 3)
    assert data.train.dtype == np.int32 and data.test.shape == (0, 3)
    assert data.train_users.dtype == np.int64 and data.item_ids.dtype == np.int64


def test_sequence_data_rejects_inconsistent_shapes():
    with pytest.raises(DataError, match="valid_users"):
        preprocess.SequenceData(
            **{**vars(tiny_sequence_data()), "valid_users": np.array([1, 2])},
        )


def test_sequence_data_save_load_round_trip(tmp_path):
    data = tiny_sequence_data()
    path = tmp_path / "sub" / "data.npz"
    data.save(path)
    assert [p.name for p in path.parent.iterdir()] == ["data.npz"]  # No temp file left behind.
    loaded = preprocess.SequenceData.load(path)
    for name in preprocess._ARRAYS:
        np.testing.assert_array_equal(getattr(loaded, name), getattr(data, name))
        assert getattr(loaded, name).dtype == getattr(data, name).dtype
    assert loaded.num_interactions == 7


def test_sequence_data_load_rejects_foreign_file(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_text("not a zip")
    with pytest.raises(DataError, match="not a SequenceData"):
        preprocess.SequenceData.load(path)
    np.savez(path, train=np.zeros((1, 2)))
    with pytest.raises(DataError, match="missing valid"):
        preprocess.SequenceData.load(path)


def test_build_sequence_data_chains_the_protocol():
    # User 1: 7 items, user 2: 2 items (dropped by min_user_items=3), item 99 seen once.
    rows = [(1, i, 10 - i) for i in (5, 6, 7, 8, 9, 10, 99)] + [(2, 5, 0), (2, 6, 1)]
    rows += [(3, i, i) for i in (5, 6, 7, 8, 9, 10)]
    data = preprocess.build_sequence_data(
        _frame(rows),
        min_user_items=3,
        min_item_users=2,
        seq_len=4,
        cut="subsequences",
        fractions=(1.0, 0.0, 0.0),
        seed=0,
    )
    assert data.item_ids.tolist() == [0, 5, 6, 7, 8, 9, 10]
    assert data.num_interactions == 12
    # User 1's items newest last: raw 10, 9, 8, 7, 6, 5 -> ids 6, 5, 4, 3, 2, 1.
    assert data.train.tolist() == [[0, 0, 6, 5], [4, 3, 2, 1], [0, 0, 1, 2], [3, 4, 5, 6]]
    assert data.train_users.tolist() == [1, 1, 3, 3]
    assert len(data.valid) == len(data.test) == 0


def test_build_sequence_data_checks_options_first():
    with pytest.raises(ConfigError, match="seq_len"):
        preprocess.build_sequence_data(
            _frame(FILTER_ROWS),
            min_user_items=1,
            min_item_users=1,
            seq_len=1,
            cut="latest",
            fractions=(0.8, 0.05, 0.15),
            seed=0,
        )
