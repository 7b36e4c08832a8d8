"""NextItNet+: item embedding, N causal dilated residual blocks, softmax (paper section 3.3)."""

from collections.abc import Sequence

import keras

from skiprec_tf.layers import NextItNetBlock
from skiprec_tf.models.base import SequentialRecommender


class NextItNetPlus(SequentialRecommender):
    """The backbone of SkipRec: E_0 = embedding(x), E_l = block_l(E_{l-1}) (Eq. 1-2), then Eq. 3.

    Args:
      num_items: V.
      embedding_dim: d.
      dilations: the dilation r of each block (a block's convolutions use r and 2r); its
        length is the number of blocks N.
      kernel_size: width of the causal convolutions.
      rezero: NextItNet+ (lambda from 0) if True, plain NextItNet (lambda = 1) if False.
      dropout: in training only, the rate of the units dropped from the item embeddings and
        from every block's F(E) (beyond the paper: NextItNet+ over-fits small data sets).
      **kwargs: `softmax`, `num_sampled` and Keras arguments, see `SequentialRecommender`.

    Input `[batch, seq_len]` item ids (0 = padding, left-padded); `encode` returns
    `[batch, seq_len, d]`, `call` the scores `[batch, V + 1]` of the next item.
    """

    def __init__(
        self,
        num_items: int,
        embedding_dim: int = 256,
        dilations: Sequence[int] = (1, 4) * 16,
        kernel_size: int = 3,
        rezero: bool = True,
        dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(num_items, embedding_dim, **kwargs)
        self.dilations = tuple(dilations)
        self.kernel_size = kernel_size
        self.rezero = rezero
        self.dropout = dropout
        # Made only when used (see NextItNetBlock).
        self.embedding_dropout = keras.layers.Dropout(dropout) if dropout else None
        # A tuple, not a list: Keras 3 wraps lists in a container that tf.train.Checkpoint and
        # tf.saved_model do not see into, so blocks held in a list would be missing from both.
        self.residual_blocks = tuple(
            NextItNetBlock(r, kernel_size, rezero, dropout, name=f"block_{l}")
            for l, r in enumerate(self.dilations)
        )

    @property
    def num_blocks(self) -> int:
        return len(self.residual_blocks)

    def embed(self, inputs, training=False):
        """E_0: the item embeddings `[batch, seq_len, d]`, with dropout in training."""
        hidden = self.item_embedding(inputs)
        if training and self.embedding_dropout:
            hidden = self.embedding_dropout(hidden, training=True)
        return hidden

    def encode(self, inputs, training=False):
        hidden = self.embed(inputs, training)
        for block in self.residual_blocks:
            hidden = block(hidden, training=training)
        return hidden
