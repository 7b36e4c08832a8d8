"""MostPop: rank items by their number of occurrences in the training sequences."""

import numpy as np
import tensorflow as tf

from skiprec_tf.metrics import RankingMetrics


def item_popularity(train_sequences: np.ndarray, num_items: int) -> np.ndarray:
    """Occurrences `[num_items + 1]` of every item in the training sequences (0 = padding)."""
    counts = np.bincount(train_sequences.reshape(-1), minlength=num_items + 1).astype(np.float32)
    counts[0] = 0.0
    return counts


def evaluate_most_popular(
    train_sequences: np.ndarray, test_sequences: np.ndarray, num_items: int, batch_size: int = 1024
) -> dict:
    """Ranking metrics of MostPop on the last item of every test sequence."""
    popularity = tf.constant(item_popularity(train_sequences, num_items)[1:])
    metrics = RankingMetrics()
    for start in range(0, len(test_sequences), batch_size):
        targets = tf.constant(test_sequences[start : start + batch_size, -1] - 1)
        scores = tf.tile(popularity[None], [tf.shape(targets)[0], 1])
        metrics.update(scores, targets)
    return {name: float(value) for name, value in metrics.results().items()}
