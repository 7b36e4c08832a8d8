"""The stacked serving weights compute what the trained blocks compute."""

import numpy as np
import tensorflow as tf

from skiprec_tf.layers import NextItNetBlock
from skiprec_tf.layers.residual_block import BlockWeights
from skiprec_tf.serving.stacked_blocks import StackedBlocks


def test_equal_the_blocks_with_one_variable_per_kind_of_weight():
    rng = np.random.default_rng(0)
    blocks = [NextItNetBlock(dilation=r) for r in (1, 4, 2, 8, 1)]
    for block in blocks:
        block.build((None, 11, 6))
        for weight in block.weights:
            weight.assign(rng.normal(size=weight.shape).astype("float32"))
    stacked = StackedBlocks(blocks)
    assert len(stacked.trainable_variables) == 0
    assert len(stacked.variables) == len(BlockWeights._fields)
    x = tf.constant(rng.normal(size=(3, 11, 6)), tf.float32)
    served = stacked.read()
    for l, block in enumerate(blocks):
        np.testing.assert_allclose(served(l, x), block(x), atol=1e-5)
        np.testing.assert_allclose(served(tf.constant(l), x), block(x), atol=1e-5)
