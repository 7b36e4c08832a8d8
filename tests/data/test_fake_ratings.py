"""The ML-20M-shaped generator: its bounds, its shape and a file the MovieLens reader reads back."""

import numpy as np
import pytest

from skiprec_tf.data import fake_ratings, readers


@pytest.fixture(scope="module")
def ratings():
    return fake_ratings.generate_ratings(rows=30_000, users=200, items=600, seed=1)


def test_every_user_has_at_least_20_distinct_movies(ratings):
    assert len(ratings["user"]) == 30_000
    per_user = np.bincount(ratings["user"])[1:]
    assert len(per_user) == 200 and per_user.min() >= fake_ratings.MIN_PER_USER
    assert per_user.max() <= 0.35 * 600
    keys = ratings["user"] * 10**7 + ratings["item"]
    assert np.all(np.diff(keys) > 0), "sorted by user, then movie, each pair once"
    assert set(np.unique(ratings["half_stars"])) <= set(range(1, 11))


def test_popularity_is_skewed(ratings):
    _, per_item = np.unique(ratings["item"], return_counts=True)
    # The most popular movies are rated by every user; the median one by about a tenth of them.
    assert per_item.max() == 200 and np.median(per_item) < 40


def test_deterministic_for_a_seed(ratings):
    again = fake_ratings.generate_ratings(rows=30_000, users=200, items=600, seed=1)
    assert all(np.array_equal(ratings[k], again[k]) for k in ratings)


def test_the_written_file_reads_back(ratings, tmp_path):
    path = tmp_path / "ratings.csv"
    fake_ratings.write_ratings_csv(path, ratings, chunk_rows=7_000)
    assert path.read_bytes().startswith(fake_ratings.HEADER)
    df = readers.read_movielens_csv(path)
    for column in ("user", "item", "timestamp"):
        np.testing.assert_array_equal(df[column].to_numpy(), ratings[column])
    text = path.read_text().splitlines()[1]
    user, item, rating, timestamp = text.split(",")
    assert rating == f"{ratings['half_stars'][0] / 2:.1f}"
    assert (int(user), int(item), int(timestamp)) == (
        1,
        ratings["item"][0],
        ratings["timestamp"][0],
    )


@pytest.mark.parametrize("rows", [200 * 20 - 1, 200 * 210 + 1])
def test_rows_out_of_bounds_are_refused(rows):
    with pytest.raises(ValueError, match="rows="):
        fake_ratings.generate_ratings(rows=rows, users=200, items=600, seed=0)
