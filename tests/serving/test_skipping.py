"""Real skipping: a block runs only on the rows that retain it, and equals the masked Eq. 5."""

import numpy as np
import pytest
import tensorflow as tf

from skiprec_tf.layers import NextItNetBlock
from skiprec_tf.serving.skipping import run_retained_blocks
from skiprec_tf.serving.stacked_blocks import StackedBlocks

N, D = 5, 8


class RowCountingBlocks:
    """The served blocks (`StackedBlocks`) as `run_retained_blocks` takes them, counting in
    `rows_seen[l]` the rows block l is run on (runs, not masks)."""

    def __init__(self, blocks):
        self.block = StackedBlocks(blocks).read()
        self.rows_seen = tf.Variable(tf.zeros([len(blocks)], tf.int32), trainable=False)

    def __call__(self, l, hidden):
        self.rows_seen.assign_add(tf.one_hot(l, N, dtype=tf.int32) * tf.shape(hidden)[0])
        return self.block(l, hidden)


@pytest.fixture
def blocks():
    rng = np.random.default_rng(0)
    blocks = [NextItNetBlock(dilation=r) for r in (1, 4, 1, 4, 1)]
    for block in blocks:
        block.build((None, 9, D))
        for weight in block.weights:
            weight.assign(rng.normal(scale=0.5, size=weight.shape).astype("float32"))
    return blocks


def _masked(hidden, actions, blocks):
    """The training-time form of Eq. 5: every block computed, then mixed by the mask."""
    for l, block in enumerate(blocks):
        retain = actions[:, l, None, None]
        hidden = retain * block(hidden) + (1.0 - retain) * hidden
    return hidden


def _run(hidden, actions, blocks):
    counting = RowCountingBlocks(blocks)
    output = tf.function(run_retained_blocks)(hidden, actions, counting)
    return output, counting.rows_seen.numpy().tolist()


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_equals_the_masked_computation_and_runs_only_retained_rows(blocks, batch):
    rng = np.random.default_rng(batch)
    hidden = tf.constant(rng.normal(size=(batch, 9, D)), tf.float32)
    actions = tf.constant(rng.integers(0, 2, size=(batch, N)), tf.float32)
    output, rows = _run(hidden, actions, blocks)
    np.testing.assert_allclose(output, _masked(hidden, actions, blocks), atol=1e-5)
    assert rows == actions.numpy().sum(axis=0).astype(int).tolist()


def test_a_block_nobody_retains_is_not_run(blocks):
    hidden = tf.random.normal([6, 9, D], seed=1)
    actions = tf.constant([[1, 0, 1, 1, 0]] * 6, tf.float32)
    output, rows = _run(hidden, actions, blocks)
    assert rows == [6, 0, 6, 6, 0]
    np.testing.assert_allclose(output, _masked(hidden, actions, blocks), atol=1e-5)


def test_every_user_skipping_everything(blocks):
    hidden = tf.random.normal([4, 9, D], seed=2)
    output, rows = _run(hidden, tf.zeros([4, N]), blocks)
    np.testing.assert_array_equal(output, hidden)
    assert rows == [0] * N


def test_an_empty_batch(blocks):
    output, rows = _run(tf.zeros([0, 9, D]), tf.zeros([0, N]), blocks)
    assert output.shape == (0, 9, D) and rows == [0] * N


def test_zero_row_block_call(blocks):
    assert blocks[0](tf.zeros([0, 9, D])).shape == (0, 9, D)
