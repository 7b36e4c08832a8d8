"""Integration tests on the shared real data sets (SKIPREC_DATA_DIR): counts from its README."""

import pytest

from skiprec_tf.data import loading, preprocess, readers

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ml_latest_small(shared_data_dir):
    return readers.read_movielens_csv(shared_data_dir / "ml-latest-small" / "ratings.csv")


@pytest.fixture(scope="module")
def ml_100k(shared_data_dir):
    return readers.read_ml100k(shared_data_dir / "ml-100k" / "u.data")


def _summary(df):
    return len(df), df["user"].nunique(), df["item"].nunique()


def test_ml_latest_small_raw_and_filtered_counts(ml_latest_small):
    assert _summary(ml_latest_small) == (100_836, 610, 9_724)
    filtered, _ = preprocess.filter_interactions(ml_latest_small, 10, 5)
    assert _summary(filtered) == (90_274, 610, 3_650)


def test_ml_100k_raw_and_filtered_counts(ml_100k):
    assert _summary(ml_100k) == (100_000, 943, 1_682)
    filtered, _ = preprocess.filter_interactions(ml_100k, 10, 5)
    assert _summary(filtered) == (99_287, 943, 1_349)


def test_beauty_counts(shared_data_dir):
    df = readers.read_user_sequences(shared_data_dir / "amazon-beauty" / "Beauty.txt")
    assert _summary(df) == (198_502, 22_363, 12_101)


@pytest.mark.parametrize(
    "folder, name, fmt, expected",
    [
        ("ml-latest-small", "ratings.csv", "movielens_csv", 4_800),
        ("ml-100k", "u.data", "ml100k", 5_400),
    ],
)
def test_t20_subsequence_counts_near_readme(shared_data_dir, folder, name, fmt, expected):
    data = loading.load_sequence_data(shared_data_dir / folder / name, fmt, seq_len=20)
    assert abs(data.num_sequences - expected) / expected < 0.02
    assert data.train.shape[1] == 20 and data.train[:, -1].min() > 0  # Newest slot never padding.
    assert len(data.train) == round(0.8 * data.num_sequences)


def test_ml_1m_counts_and_the_ml20_protocol_split(shared_data_dir):
    """ML-1M as flags/ml1m_plus.cfg reads it: the counts and the split its README gives."""
    from skiprec_tf.serving.recommend import read_titles

    df = readers.read_user_sequences(shared_data_dir / "ml-1m" / "ml-1m.txt")
    assert _summary(df) == (1_000_209, 6_040, 3_706)
    data = preprocess.build_sequence_data(
        df, min_user_items=10, min_item_users=5, seq_len=20, cut="subsequences",
        fractions=(0.8, 0.05, 0.15), seed=0,
    )  # fmt: skip
    assert (len(data.train), len(data.valid), len(data.test)) == (42_095, 2_631, 7_893)
    assert data.num_items == 3_416
    titles = read_titles(str(shared_data_dir / "ml-1m" / "movies.dat"))
    assert titles[1] == "Toy Story (1995)" and len(titles) == 3_883
    assert set(data.item_ids[1:].tolist()) <= set(titles)
