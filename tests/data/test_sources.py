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
