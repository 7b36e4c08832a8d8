"""Hand-computed checks of the full-ranking metrics."""

import math

import numpy as np
import pytest
import tensorflow as tf

from skiprec_tf.evaluation.metrics import RankingMetrics, ranking_metrics, target_ranks


def _scores_with_target_at(rank, num_items=30):
    """Scores where item 0 is the target and exactly `rank - 1` items score higher."""
    scores = np.zeros(num_items, dtype=np.float32)
    scores[1:rank] = 2.0
    scores[0] = 1.0
    return scores


@pytest.mark.parametrize("rank", [1, 5, 6, 20, 21])
def test_rank_and_metrics_at_cutoffs(rank):
    scores = tf.constant([_scores_with_target_at(rank)])
    ranks = target_ranks(scores, tf.constant([0]))
    assert int(ranks[0]) == rank
    m = {k: float(v[0]) for k, v in ranking_metrics(ranks).items()}
    assert m["hr_at_5"] == (1.0 if rank <= 5 else 0.0)
    assert m["hr_at_20"] == (1.0 if rank <= 20 else 0.0)
    assert m["mrr_at_5"] == pytest.approx(1 / rank if rank <= 5 else 0.0)
    assert m["mrr_at_20"] == pytest.approx(1 / rank if rank <= 20 else 0.0)
    assert m["ndcg_at_5"] == pytest.approx(1 / math.log2(rank + 1) if rank <= 5 else 0.0)
    assert m["ndcg_at_20"] == pytest.approx(1 / math.log2(rank + 1) if rank <= 20 else 0.0)


def test_ties_count_against_the_target():
    # Target 2 ties with items 0 and 4, item 1 is higher: three items >= target besides itself.
    scores = tf.constant([[0.5, 0.9, 0.5, 0.1, 0.5]])
    assert int(target_ranks(scores, tf.constant([2]))[0]) == 4
    # All equal: the target ranks last, not first.
    assert int(target_ranks(tf.zeros([1, 7]), tf.constant([3]))[0]) == 7


def test_batch_means():
    scores = tf.constant([_scores_with_target_at(1), _scores_with_target_at(6)])
    metrics = RankingMetrics()
    metrics.update(scores, tf.constant([0, 0]))
    results = {k: float(v) for k, v in metrics.results().items()}
    assert results["mrr_at_5"] == pytest.approx(0.5)
    assert results["mrr_at_20"] == pytest.approx((1 + 1 / 6) / 2)
    assert results["hr_at_5"] == pytest.approx(0.5)
    assert results["hr_at_20"] == pytest.approx(1.0)
    assert list(results) == [
        "mrr_at_5",
        "mrr_at_20",
        "hr_at_5",
        "hr_at_20",
        "ndcg_at_5",
        "ndcg_at_20",
    ]
