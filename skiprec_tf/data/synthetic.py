"""An embedded interaction log with real sequential structure and known easy and hard users.

Easy users (short range): the next item is a fixed successor of the last item. Hard users
(long range): the next item is a fixed function of the item `lag` positions back, so only a
model whose receptive field reaches that far predicts it. The two kinds use disjoint halves
of the catalogue. With probability `noise` an item is instead drawn from a Zipf-like
popularity distribution (so popularity is a real, but weak, baseline).
"""

import numpy as np
import pandas as pd

EASY, HARD = 0, 1


def generate_interactions(
    num_users: int = 4000,
    num_items: int = 400,
    seq_len: int = 20,
    lag: int = 8,
    noise: float = 0.1,
    seed: int = 0,
):
    """Generates `seq_len` interactions per user.

    Args:
      num_users: users, with ids 1..num_users; about half are easy, half hard.
      num_items: items, ids 1..num_items; easy users use the lower half, hard the upper.
      seq_len: interactions per user.
      lag: how far back the item that determines a hard user's next item lies.
      noise: probability that an item is drawn from popularity instead.
      seed: seed of everything.

    Returns:
      `(interactions, kinds)`: a DataFrame with int64 columns `user`, `item`, `timestamp`, and
      an int array `kinds` indexed by user id with `EASY` or `HARD` (`kinds[0]` is -1).
    """
    if num_items < 4 or num_users < 1 or seq_len < 2 or lag < 1:
        raise ValueError(
            f"need num_items >= 4, num_users >= 1, seq_len >= 2, lag >= 1; got "
            f"{num_items}, {num_users}, {seq_len}, {lag}"
        )
    rng = np.random.default_rng(seed)
    half = num_items // 2
    catalogues = {EASY: np.arange(1, half + 1), HARD: np.arange(half + 1, num_items + 1)}
    popularity = {kind: _zipf_weights(len(items), rng) for kind, items in catalogues.items()}
    # Fixed random maps item -> next item within each half (successor / long-range function).
    transition = np.zeros(num_items + 1, dtype=np.int64)
    for items in catalogues.values():
        transition[items] = rng.permutation(items)

    kinds = np.full(num_users + 1, -1)
    kinds[1:] = rng.integers(0, 2, size=num_users)
    sequences = np.zeros((num_users, seq_len), dtype=np.int64)
    for row, kind in enumerate(kinds[1:]):
        items, weights = catalogues[kind], popularity[kind]
        reach = 1 if kind == EASY else lag
        random_items = rng.choice(items, size=seq_len, p=weights)
        is_noise = rng.random(seq_len) < noise
        for i in range(seq_len):
            if i < reach or is_noise[i]:
                sequences[row, i] = random_items[i]
            else:
                sequences[row, i] = transition[sequences[row, i - reach]]

    users = np.repeat(np.arange(1, num_users + 1), seq_len)
    interactions = pd.DataFrame(
        {
            "user": users.astype(np.int64),
            "item": sequences.reshape(-1),
            "timestamp": np.tile(np.arange(seq_len, dtype=np.int64), num_users),
        }
    )
    return interactions, kinds


def _zipf_weights(size: int, rng: np.random.Generator, exponent: float = 0.8) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1) ** exponent
    return rng.permutation(weights / weights.sum())
