"""The floors every model is reported next to: MostPop and a first-order Markov chain.

Both score items 1..V from the training sequences alone, and rank the last item of every test
sequence as the models are ranked (`metrics.target_ranks`: ties count against the target).
"""

import numpy as np
import tensorflow as tf

from skiprec_tf.evaluation.metrics import ranking_metrics


def item_popularity(train_sequences: np.ndarray, num_items: int) -> np.ndarray:
    """Occurrences `[num_items + 1]` of every item in the training sequences (0 = padding)."""
    counts = np.bincount(train_sequences.reshape(-1), minlength=num_items + 1).astype(np.float32)
    counts[0] = 0.0
    return counts


class MostPop:
    """Every user gets the items by their number of occurrences in the training sequences."""

    name = "most_popular"

    def __init__(self, train_sequences: np.ndarray, num_items: int):
        self.popularity = item_popularity(train_sequences, num_items)[1:].astype(np.float64)

    def scores(self, inputs: np.ndarray) -> np.ndarray:
        """`[batch, V]` scores of items 1..V after each input sequence `[batch, t - 1]`."""
        return np.broadcast_to(self.popularity, (len(inputs), len(self.popularity)))


class MarkovChain:
    """First-order Markov chain: after the last item i of a sequence, item j scores the number of
    i -> j transitions (j right after i) in the training sequences; popularity breaks ties, and
    nothing else counts.

    The counts are kept sparse (one sorted array of (i, j) pairs), so a catalogue of tens of
    thousands of items costs memory in proportion to the distinct transitions only.
    """

    name = "markov_chain"

    def __init__(self, train_sequences: np.ndarray, num_items: int):
        self.num_items = num_items
        before, after = train_sequences[:, :-1].ravel(), train_sequences[:, 1:].ravel()
        real = (before > 0) & (after > 0)
        pairs = before[real].astype(np.int64) * (num_items + 1) + after[real]
        pairs, counts = np.unique(pairs, return_counts=True)  # sorted by i, then j
        self.next_items, self.counts = pairs % (num_items + 1), counts.astype(np.float64)
        self.starts = np.searchsorted(pairs // (num_items + 1), np.arange(num_items + 2))
        popularity = item_popularity(train_sequences, num_items)[1:].astype(np.float64)
        # Below 1, so a tie-breaker only: a transition counted once more always ranks higher.
        self.tie_breaker = popularity / (popularity.max() + 1.0)

    def scores(self, inputs: np.ndarray) -> np.ndarray:
        """`[batch, V]` scores of items 1..V after each input sequence `[batch, t - 1]`."""
        scores = np.tile(self.tie_breaker, (len(inputs), 1))
        for row, last in enumerate(inputs[:, -1]):
            at = slice(self.starts[last], self.starts[last + 1])
            scores[row, self.next_items[at] - 1] += self.counts[at]
        return scores


def baseline_ranks(baseline, test_sequences: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """1-based rank `[n]` of the last item of every test sequence under `baseline`'s scores."""
    ranks = []
    for start in range(0, len(test_sequences), batch_size):
        batch = test_sequences[start : start + batch_size]
        scores = baseline.scores(batch[:, :-1])
        target_scores = scores[np.arange(len(batch)), batch[:, -1] - 1][:, None]
        ranks.append((scores >= target_scores).sum(axis=1))
    return np.concatenate(ranks).astype(np.int32) if ranks else np.zeros(0, np.int32)


def mean_metrics(ranks: np.ndarray) -> dict:
    """MRR@N, HR@N, NDCG@N (`metrics.ranking_metrics`) averaged over per-sequence ranks."""
    per_sequence = ranking_metrics(tf.constant(ranks))
    return {name: float(tf.reduce_mean(values)) for name, values in per_sequence.items()}


def evaluate_most_popular(
    train_sequences: np.ndarray, test_sequences: np.ndarray, num_items: int, batch_size: int = 1024
) -> dict:
    """Ranking metrics of MostPop on the last item of every test sequence."""
    ranks = baseline_ranks(MostPop(train_sequences, num_items), test_sequences, batch_size)
    return mean_metrics(ranks)
