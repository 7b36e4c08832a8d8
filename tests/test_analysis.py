"""The block-usage summary on a hand-computed case."""

import numpy as np
import pytest

from skiprec_tf.analysis import block_usage


def test_block_usage_summary():
    actions = np.array([[1, 0, 1, 0], [1, 1, 1, 1], [1, 0, 1, 0]])
    usage = block_usage(actions)
    assert usage["utilisation"] == [1.0, pytest.approx(1 / 3), 1.0, pytest.approx(1 / 3)]
    assert usage["blocks_mean"] == pytest.approx(8 / 3) and usage[
        "usage_fraction"
    ] == pytest.approx(2 / 3)
    assert (usage["blocks_min"], usage["blocks_max"], usage["distinct_policies"]) == (2, 4, 2)
    assert usage["blocks_std"] == pytest.approx(np.std([2, 4, 2]))
