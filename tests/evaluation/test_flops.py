"""The FLOP model of one inference, on hand-computed cases."""

from skiprec_tf.config import ModelConfig
from skiprec_tf.evaluation.flops import (
    attention_block_flops,
    block_flops,
    inference_flops,
    output_flops,
    policy_flops,
)


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


def test_sasrec_plus_flops():
    # d = 4, seq_len = 10: Q, K, V, O; scores and weighted sum; FFN 4 -> 16 -> 4; the rest.
    expected = 4 * 2 * 10 * 4 * 4 + 2 * 2 * 10 * 10 * 4 + 2 * 2 * 10 * 4 * 16 + 10 * 10 * 4
    assert attention_block_flops(seq_len=10, channels=4) == expected
    full = ModelConfig(embedding_dim=4, num_blocks=8, model="sasrec_plus")
    assert inference_flops(full, "", 10, 99, 8) == 8 * expected + output_flops(4, 99)
    skiprec = ModelConfig(embedding_dim=4, num_blocks=8, model="skiprec_rl", backbone="sasrec_plus")
    half = inference_flops(skiprec, "attention", 10, 99, 4)
    assert half == 4 * expected + output_flops(4, 99) + expected + 2 * 4 * 2 * 8
