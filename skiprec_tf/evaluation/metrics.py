"""Full-ranking top-N metrics on the last item of each sequence: MRR@N, HR@N, NDCG@N."""

from collections.abc import Sequence

import keras
import tensorflow as tf

CUTOFFS = (5, 20)
METRIC_NAMES = tuple(f"{m}_at_{k}" for m in ("mrr", "hr", "ndcg") for k in CUTOFFS)


def target_ranks(scores: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """1-based rank of each target among all items, ties counted against the target.

    Args:
      scores: `[batch, num_items]` scores of every candidate item.
      targets: `[batch]` column index of the true next item in `scores`.

    Returns:
      `[batch]` int32 ranks: 1 + the number of other items scoring >= the target. Counting ties
      against the target means a model that scores everything equally ranks last, not first.
    """
    targets = tf.cast(targets, tf.int32)
    target_scores = tf.gather(scores, targets, batch_dims=1)[:, None]
    at_least = tf.reduce_sum(tf.cast(scores >= target_scores, tf.int32), axis=1)
    return at_least  # includes the target itself, so this is 1 + (others >= target)


def ranking_metrics(ranks: tf.Tensor, cutoffs: Sequence[int] = CUTOFFS) -> dict[str, tf.Tensor]:
    """Per-sequence MRR@N, HR@N and NDCG@N (one relevant item) from 1-based ranks."""
    ranks = tf.cast(ranks, tf.float32)
    values = {}
    for k in cutoffs:
        hit = tf.cast(ranks <= k, tf.float32)
        values[f"mrr_at_{k}"] = hit / ranks
        values[f"hr_at_{k}"] = hit
        values[f"ndcg_at_{k}"] = hit * tf.math.log(2.0) / tf.math.log(ranks + 1.0)
    return {name: values[name] for name in sorted(values, key=_metric_order)}


def _metric_order(name: str):
    kind, _, cutoff = name.partition("_at_")
    return ("mrr", "hr", "ndcg").index(kind), int(cutoff)


class RankingMetrics:
    """Keras `Mean` trackers of every ranking metric, updated from scores in batches."""

    def __init__(self, cutoffs: Sequence[int] = CUTOFFS):
        self.cutoffs = tuple(cutoffs)
        names = ranking_metrics(tf.ones([1]), self.cutoffs).keys()
        self.trackers = [keras.metrics.Mean(name=name) for name in names]

    def update(self, scores: tf.Tensor, targets: tf.Tensor) -> None:
        values = ranking_metrics(target_ranks(scores, targets), self.cutoffs)
        for tracker in self.trackers:
            tracker.update_state(values[tracker.name])

    def results(self) -> dict[str, tf.Tensor]:
        return {tracker.name: tracker.result() for tracker in self.trackers}
