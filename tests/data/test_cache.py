"""The on-disk cache of preprocessed data sets."""

import os

import numpy as np
import pytest

from skiprec_tf.data import cache, preprocess
from skiprec_tf.errors import DataError


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
