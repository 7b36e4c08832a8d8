"""Block-usage summary, the policy schedule and the FLOP model on hand-computed cases."""

import numpy as np
import pytest

from skiprec_tf.analysis import block_usage
from skiprec_tf.callbacks import controlled_blocks
from skiprec_tf.config import ModelConfig
from skiprec_tf.flops import block_flops, inference_flops, output_flops, policy_flops


def test_block_usage_summary():
    actions = np.array([[1, 0, 1, 0], [1, 1, 1, 1], [1, 0, 1, 0]])
    usage = block_usage(actions)
    assert usage["utilisation"] == [1.0, pytest.approx(1 / 3), 1.0, pytest.approx(1 / 3)]
    assert usage["blocks_mean"] == pytest.approx(8 / 3) and usage[
        "usage_fraction"
    ] == pytest.approx(2 / 3)
    assert (usage["blocks_min"], usage["blocks_max"], usage["distinct_policies"]) == (2, 4, 2)
    assert usage["blocks_std"] == pytest.approx(np.std([2, 4, 2]))


@pytest.mark.parametrize(
    "epoch, warmup, curriculum, expected",
    [
        (0, 2, 0, [0, 0, 0, 0]),
        (1, 2, 0, [0, 0, 0, 0]),
        (2, 2, 0, [1, 1, 1, 1]),
        (0, 0, 4, [0, 0, 0, 1]),
        (1, 0, 4, [0, 0, 1, 1]),
        (3, 0, 4, [1, 1, 1, 1]),
        (9, 0, 4, [1, 1, 1, 1]),
        (1, 1, 2, [0, 0, 1, 1]),
    ],
)
def test_policy_schedule(epoch, warmup, curriculum, expected):
    assert controlled_blocks(epoch, 4, warmup, curriculum) == expected


def test_flops():
    assert (
        block_flops(seq_len=10, channels=4, kernel_size=3) == 2 * 2 * 10 * 3 * 4 * 4 + 10 * 10 * 4
    )
    full = ModelConfig(embedding_dim=4, num_blocks=8, model="nextitnet_plus")
    skiprec = ModelConfig(embedding_dim=4, num_blocks=8, model="skiprec_rl")
    everything = inference_flops(full, "", 10, 99, 8)
    assert everything == 8 * block_flops(10, 4) + output_flops(4, 99)
    half = inference_flops(skiprec, "cnn", 10, 99, 4)
    assert half == 4 * block_flops(10, 4) + output_flops(4, 99) + policy_flops("cnn", 10, 4, 8)
    assert inference_flops(skiprec, "random", 10, 99, 4) < half < everything
