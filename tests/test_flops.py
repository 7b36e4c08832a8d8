"""The FLOP model of one inference, on hand-computed cases."""

from skiprec_tf.config import ModelConfig
from skiprec_tf.flops import block_flops, inference_flops, output_flops, policy_flops


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
