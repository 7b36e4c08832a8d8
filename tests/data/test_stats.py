"""The data set statistics in the layout of the paper's Table 1."""

import numpy as np

from skiprec_tf.data import preprocess, stats


def _sequence_data():
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


def test_format_table1_layout():
    text = stats.format_table1("tiny", _sequence_data())
    assert text.splitlines() == [
        "Dataset  #items  #interactions  #sequences  Length t",
        "tiny          3              7           3         3",
        "#train 2  #valid 1  #test 0",
    ]
