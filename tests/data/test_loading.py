"""From a raw file to a cached `SequenceData` in one call: options checked first, the cache keyed by them."""

import numpy as np
import pytest

from skiprec_tf.data import loading
from skiprec_tf.errors import ConfigError, DataError


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


def test_a_missing_data_set_says_how_to_download_it_before_the_cache(tmp_path):
    path = tmp_path / "ml-1m" / "ratings.dat"
    with pytest.raises(DataError) as info:
        loading.load_sequence_data(path, "movielens_dat", cache_dir=tmp_path / "cache")
    assert str(info.value) == (
        f"{path}: no such file; download it with "
        f"`python tools/download_data.py ml-1m --data_dir={tmp_path}`"
    )
    assert not (tmp_path / "cache").exists()
