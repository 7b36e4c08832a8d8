"""From a `DataConfig` to a `SequenceData`: the synthetic log, its user groups, empty splits."""

import dataclasses

import numpy as np
import pytest

from skiprec_tf.config import DataConfig
from skiprec_tf.data.sources import load_data, user_groups
from skiprec_tf.errors import DataError

SMALL = DataConfig(synthetic_users=60, synthetic_items=20, seq_len=12)


def test_the_synthetic_data_follow_the_config():
    data = load_data(SMALL)
    assert data.seq_len == 12 and data.num_items <= 20
    assert len(data.train) + len(data.valid) + len(data.test) == data.num_sequences
    np.testing.assert_array_equal(load_data(SMALL).test, data.test)  # deterministic


def test_user_groups_split_the_synthetic_users_and_only_them(tmp_path):
    groups = user_groups(SMALL)
    assert set(groups) == {"easy", "hard"}
    assert not set(groups["easy"]) & set(groups["hard"])
    assert len(groups["easy"]) + len(groups["hard"]) == 60
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating,timestamp\n")
    assert user_groups(DataConfig(format="movielens_csv", path=str(path))) is None


def test_an_empty_split_names_the_split():
    with pytest.raises(DataError, match="the valid split is empty"):
        load_data(dataclasses.replace(SMALL, fractions=(1.0, 0.0, 0.0)))


def _one_user(tmp_path, items):
    path = tmp_path / "ratings.csv"
    rows = [f"7,{i},4.0,{i}" for i in range(1, items + 1)]
    path.write_text("userId,movieId,rating,timestamp\n" + "\n".join(rows) + "\n")
    return DataConfig(
        format="movielens_csv", path=str(path), min_item_users=1, seq_len=10, cache_dir=None
    )


def test_a_single_user_with_one_sequence_names_the_empty_split(tmp_path):
    config = _one_user(tmp_path, items=12)  # 2 sequences of t = 10
    with pytest.raises(DataError) as info:
        load_data(config)
    assert str(info.value) == (
        f"{config.path}: the valid split is empty (2 sequences, split (0.8, 0.05, 0.15))"
    )


def test_a_single_user_with_enough_items_is_a_tiny_data_set(tmp_path):
    data = load_data(_one_user(tmp_path, items=200))  # 20 sequences of t = 10
    assert (len(data.train), len(data.valid), len(data.test)) == (16, 1, 3)
    assert set(data.train_users) | set(data.valid_users) | set(data.test_users) == {7}
