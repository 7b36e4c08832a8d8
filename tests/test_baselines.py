"""MostPop on a hand-computed case."""

import numpy as np
import pytest

from skiprec_tf.baselines import evaluate_most_popular, item_popularity


def test_popularity_counts_items_not_padding():
    train = np.array([[0, 1, 2, 2], [0, 0, 2, 3]])
    np.testing.assert_array_equal(item_popularity(train, 4), [0, 1, 3, 1, 0])


def test_most_popular_ranks_by_training_counts():
    train = np.array([[0, 1, 2, 2], [0, 0, 2, 3], [1, 2, 2, 1]])  # counts: 1 -> 3, 2 -> 5, 3 -> 1
    test = np.array([[0, 0, 1, 2], [0, 0, 2, 1], [0, 0, 1, 3], [0, 0, 3, 4]])  # ranks 1, 2, 3, 4
    metrics = evaluate_most_popular(train, test, num_items=4, batch_size=3)
    assert metrics["mrr_at_5"] == pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 4) / 4)
    # item 4 never occurs: its 0 ties with no other item, so it ranks last
    assert metrics["hr_at_5"] == pytest.approx(1.0)
    assert metrics["ndcg_at_5"] == pytest.approx(
        np.mean([1 / np.log2(r + 1) for r in (1, 2, 3, 4)])
    )
