"""TFRecord shards: together they hold the split, in order, and each can be read alone."""

import numpy as np
import pytest

from skiprec_tf.data import shards
from skiprec_tf.errors import DataError


@pytest.fixture
def rows():
    return np.random.default_rng(0).integers(0, 50_000, size=(103, 5)).astype(np.int32)


def _read(directory, index, num_shards, seq_len=5):
    dataset = shards.read_shard(directory, "train", seq_len, index, num_shards)
    return np.array(list(dataset.as_numpy_iterator()), dtype=np.int32).reshape(-1, seq_len)


def test_the_union_of_the_shards_is_the_split(rows, tmp_path):
    paths = shards.write_shards(rows, tmp_path, "train", num_shards=4)
    assert [p.name for p in paths] == [f"train-0000{i}-of-00004.tfrecord" for i in range(4)]
    parts = [_read(tmp_path, i, 4) for i in range(4)]
    assert [len(p) for p in parts] == [26, 26, 26, 25]
    np.testing.assert_array_equal(np.concatenate(parts), rows)


def test_a_shard_is_read_alone(rows, tmp_path):
    shards.write_shards(rows, tmp_path, "train", num_shards=4)
    for i in (0, 1, 2):
        shards.shard_path(tmp_path, "train", i, 4).unlink()
    third = _read(tmp_path, 3, 4)
    np.testing.assert_array_equal(third, rows[78:])
    element = next(iter(shards.read_shard(tmp_path, "train", 5, 3, 4)))
    assert element.dtype.name == "int32" and element.shape == (5,)


def test_more_shards_than_rows_leaves_some_empty(tmp_path):
    rows = np.arange(10, dtype=np.int32).reshape(2, 5)
    shards.write_shards(rows, tmp_path, "valid", num_shards=3)
    read = [
        list(shards.read_shard(tmp_path, "valid", 5, i, 3).as_numpy_iterator()) for i in range(3)
    ]
    assert [len(r) for r in read] == [1, 1, 0]


def test_a_missing_shard_or_a_bad_index_is_named(rows, tmp_path):
    shards.write_shards(rows, tmp_path, "train", num_shards=2)
    with pytest.raises(DataError, match="train-00000-of-00003.tfrecord: no such shard file"):
        shards.read_shard(tmp_path, "train", 5, 0, 3)
    with pytest.raises(DataError, match="shard index 2 is outside 0..1"):
        shards.read_shard(tmp_path, "train", 5, 2, 2)
    with pytest.raises(ValueError, match="num_shards must be >= 1"):
        shards.write_shards(rows, tmp_path, "train", num_shards=0)
