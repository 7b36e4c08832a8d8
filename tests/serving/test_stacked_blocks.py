"""The stacked serving weights compute what the trained blocks compute."""

import numpy as np
import tensorflow as tf

from skiprec_tf.layers import NextItNetBlock, SelfAttentionBlock
from skiprec_tf.layers.attention_block import AttentionWeights
from skiprec_tf.layers.residual_block import BlockWeights
from skiprec_tf.serving.stacked_blocks import StackedAttentionBlocks, StackedBlocks, stack_blocks


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
        np.testing.assert_allclose(served(l, x, None), block(x), atol=1e-5)
        np.testing.assert_allclose(served(tf.constant(l), x, None), block(x), atol=1e-5)


def test_attention_blocks_equal_the_blocks_with_padding_masked():
    rng = np.random.default_rng(1)
    blocks = [SelfAttentionBlock(num_heads=2) for _ in range(3)]
    for block in blocks:
        block.build((None, 7, 6))
        for weight in block.weights:
            weight.assign(rng.normal(scale=0.5, size=weight.shape).astype("float32"))
    stacked = stack_blocks(blocks)
    assert isinstance(stacked, StackedAttentionBlocks)
    assert len(stacked.variables) == len(AttentionWeights._fields)
    x = tf.constant(rng.normal(size=(2, 7, 6)), tf.float32)
    padding_mask = tf.constant([[True] * 3 + [False] * 4, [False] * 7])
    served = stacked.read()
    for l, block in enumerate(blocks):
        expected = block(x, padding_mask=padding_mask)
        np.testing.assert_allclose(served(l, x, padding_mask), expected, atol=1e-5)
        np.testing.assert_allclose(served(tf.constant(l), x, padding_mask), expected, atol=1e-5)
