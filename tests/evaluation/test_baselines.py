"""MostPop and the first-order Markov chain on hand-computed cases."""

import numpy as np
import pytest

from skiprec_tf.evaluation.baselines import (
    MarkovChain,
    MostPop,
    baseline_ranks,
    evaluate_most_popular,
    item_popularity,
    mean_metrics,
)


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


def test_markov_chain_scores_transitions_from_the_last_item_with_popularity_breaking_ties():
    # Transitions in training: 1 -> 2 twice, 1 -> 3 once, 2 -> 3 once, 3 -> 1 once (3 -> 0 is
    # padding); occurrences: item 1 three times, 2 twice, 3 three times, 4 never.
    train = np.array([[0, 1, 2, 3], [0, 0, 1, 2], [3, 1, 3, 0]])
    chain = MarkovChain(train, num_items=4)
    popularity = np.array([3, 2, 3, 0])  # items 1..4
    scores = chain.scores(np.array([[0, 1], [2, 1], [4, 2], [0, 4]]))
    tie = popularity / 4  # below 1: only breaks ties
    np.testing.assert_allclose(scores[0], tie + [0, 2, 1, 0])  # after 1: 2, then 3
    np.testing.assert_allclose(scores[1], scores[0])  # only the last item counts
    np.testing.assert_allclose(scores[2], tie + [0, 0, 1, 0])  # after 2: 3
    np.testing.assert_allclose(scores[3], tie)  # 4 never seen: popularity alone
    test = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 1], [0, 4, 4]])
    # after 1: 2 ranks 1st, 3 2nd; after 2: 1 ranks 2nd (3 first, 1 beats 2 on popularity);
    # after 4: item 4 (never seen) ranks last
    np.testing.assert_array_equal(baseline_ranks(chain, test, batch_size=3), [1, 2, 2, 4])


def test_baseline_metrics_from_ranks_equal_the_old_most_pop_evaluation():
    train = np.random.default_rng(0).integers(0, 30, size=(50, 6))
    test = np.random.default_rng(1).integers(1, 30, size=(40, 6))
    ranks = baseline_ranks(MostPop(train, 29), test)
    assert mean_metrics(ranks) == pytest.approx(evaluate_most_popular(train, test, 29), abs=1e-6)
