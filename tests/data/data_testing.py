"""A tiny `SequenceData` shared by the data tests."""

import numpy as np

from skiprec_tf.data import preprocess


def tiny_sequence_data():
    """3 items (raw ids 100, 200, 300), 7 interactions, 2 train, 1 valid and 0 test rows, t = 3."""
    return preprocess.SequenceData(
        train=np.array([[0, 1, 2], [1, 2, 3]]),
        valid=np.array([[0, 0, 3]]),
        test=np.zeros((0, 3)),
        train_users=np.array([10, 11]),
        valid_users=np.array([12]),
        test_users=np.zeros(0),
        item_ids=np.array([0, 100, 200, 300]),
        num_interactions=7,
    )
