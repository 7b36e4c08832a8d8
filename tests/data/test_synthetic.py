"""The synthetic default data set has the structure its docstring promises."""

import numpy as np

from skiprec_tf.data import synthetic


def test_easy_and_hard_users_follow_their_rules():
    interactions, kinds = synthetic.generate_interactions(
        num_users=300, num_items=40, seq_len=20, lag=8, noise=0.0, seed=3
    )
    sequences = interactions["item"].to_numpy().reshape(300, 20)
    easy, hard = sequences[kinds[1:] == synthetic.EASY], sequences[kinds[1:] == synthetic.HARD]
    assert 100 < len(easy) < 200
    assert easy.max() <= 20 < hard.min(), "the two kinds use disjoint halves of the catalogue"
    # Without noise, the item after x is always the same for easy users (a function of the last
    # item), and for hard users a function of the item 8 steps back but not of the last item.
    assert _is_function(easy[:, :-1], easy[:, 1:])
    assert _is_function(hard[:, :-8], hard[:, 8:])
    assert not _is_function(hard[:, 8:-1], hard[:, 9:])


def test_deterministic_for_a_seed():
    a, kinds_a = synthetic.generate_interactions(num_users=20, num_items=10, seed=1)
    b, kinds_b = synthetic.generate_interactions(num_users=20, num_items=10, seed=1)
    assert a.equals(b) and np.array_equal(kinds_a, kinds_b)
    assert list(a.columns) == ["user", "item", "timestamp"]


def _is_function(sources, images):
    mapping = {}
    for source, image in zip(sources.reshape(-1), images.reshape(-1)):
        if mapping.setdefault(source, image) != image:
            return False
    return True
