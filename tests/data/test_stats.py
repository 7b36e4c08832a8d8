"""The data set statistics in the layout of the paper's Table 1."""

from data_testing import tiny_sequence_data

from skiprec_tf.data import stats


def test_format_table1_layout():
    text = stats.format_table1("tiny", tiny_sequence_data())
    assert text.splitlines() == [
        "Dataset  #items  #interactions  #sequences  Length t",
        "tiny          3              7           3         3",
        "#train 2  #valid 1  #test 0",
    ]
