"""Tests for skiprec_tf.data.cache and the cached loading entry point."""

import os

import numpy as np
import pytest

from skiprec_tf.data import cache, loading, preprocess
from skiprec_tf.errors import ConfigError, DataError


def _data(marker=1):
    return preprocess.SequenceData(
        train=np.array([[0, 1, marker]]),
        valid=np.zeros((0, 3)),
        test=np.zeros((0, 3)),
        train_users=np.array([5]),
        valid_users=np.zeros(0),
        test_users=np.zeros(0),
        item_ids=np.arange(marker + 1),
        num_interactions=2,
    )


class _Builder:
    """A build_fn that counts its calls."""

    def __init__(self, marker=1):
        self.calls, self.marker = 0, marker

    def __call__(self):
        self.calls += 1
        return _data(self.marker)


@pytest.fixture
def raw_file(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating,timestamp\n1,2,3.0,4\n")
    return path


def test_cache_key_depends_on_options_not_their_order(raw_file):
    key = cache.cache_key(raw_file, {"seq_len": 20, "cut": "latest"})
    assert len(key) == 64
    assert key == cache.cache_key(raw_file, {"cut": "latest", "seq_len": 20})
    assert key != cache.cache_key(raw_file, {"cut": "latest", "seq_len": 10})


def test_cache_key_changes_when_the_file_changes(raw_file):
    key = cache.cache_key(raw_file, {})
    stat = raw_file.stat()
    os.utime(raw_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert cache.cache_key(raw_file, {}) != key


def test_cache_key_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        cache.cache_key(tmp_path / "missing.csv", {})


def test_cached_hit_does_not_build_again(tmp_path, caplog):
    build = _Builder()
    with caplog.at_level("INFO"):
        first = cache.cached(tmp_path / "cache", "k1", build)
        second = cache.cached(tmp_path / "cache", "k1", build)
    assert build.calls == 1
    assert (tmp_path / "cache" / "k1.npz").is_file()
    np.testing.assert_array_equal(first.train, second.train)
    assert "saved it to cache" in caplog.text and "Loaded preprocessed data" in caplog.text


def test_cached_miss_for_another_key(tmp_path):
    build = _Builder()
    cache.cached(tmp_path, "k1", build)
    cache.cached(tmp_path, "k2", build)
    assert build.calls == 2


def test_cached_none_disables_caching(tmp_path):
    build = _Builder()
    cache.cached(None, "k1", build)
    cache.cached(None, "k1", build)
    assert build.calls == 2


def test_cached_rebuilds_unreadable_entry(tmp_path):
    (tmp_path / "k1.npz").write_text("truncated")
    build = _Builder(marker=3)
    data = cache.cached(tmp_path, "k1", build)
    assert build.calls == 1 and data.num_items == 3
    assert preprocess.SequenceData.load(tmp_path / "k1.npz").num_items == 3


def _write_ratings(path, users=6, items=5):
    lines = ["userId,movieId,rating,timestamp"]
    lines += [f"{u},{i},4.0,{100 * u + i}" for u in range(users) for i in range(items)]
    path.write_text("\n".join(lines) + "\n")


def test_load_sequence_data_uses_cache_and_options_change_key(tmp_path):
    raw = tmp_path / "ratings.csv"
    _write_ratings(raw)
    cache_dir = tmp_path / "cache"
    kwargs = {"min_user_items": 2, "min_item_users": 2, "seq_len": 3, "cache_dir": cache_dir}
    data = loading.load_sequence_data(raw, "movielens_csv", **kwargs)
    assert (data.num_items, data.seq_len, data.num_sequences) == (5, 3, 12)
    again = loading.load_sequence_data(raw, "movielens_csv", **kwargs)
    np.testing.assert_array_equal(again.train, data.train)
    assert len(list(cache_dir.iterdir())) == 1
    loading.load_sequence_data(raw, "movielens_csv", **{**kwargs, "seed": 1})
    assert len(list(cache_dir.iterdir())) == 2


def test_load_sequence_data_checks_options_before_reading(tmp_path):
    with pytest.raises(ConfigError, match="fractions"):
        loading.load_sequence_data(tmp_path / "missing.csv", "movielens_csv", fractions=(1, 1, 1))
    with pytest.raises(DataError, match="known formats"):
        loading.load_sequence_data(tmp_path / "missing.csv", "csv")
