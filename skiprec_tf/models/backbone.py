"""The deep backbones: item embedding, N residual blocks, softmax (sections 3.3 and 5.4)."""

from collections.abc import Sequence

import keras
import tensorflow as tf

from skiprec_tf.layers.dropout import optional_dropout
from skiprec_tf.models.base import SequentialRecommender


def embed_items(item_embedding, position_embedding, inputs):
    """E_0 `[batch, seq_len, d]`: the item embeddings of `inputs`, plus (SASRec+) a learned
    embedding of each position counted from the right, so that the most recent item always has
    the same one whatever the left padding. Training and serving both compute it here."""
    hidden = item_embedding(inputs)
    if position_embedding is None:
        return hidden
    seq_len = tf.shape(inputs)[1]
    positions = tf.range(position_embedding.input_dim - seq_len, position_embedding.input_dim)
    return hidden + position_embedding(positions)[None]


class ResidualRecommender(SequentialRecommender):
    """E_0 = embed(x), E_l = block_l(E_{l-1}) (Eq. 1), scores of E_N's last position (Eq. 3).

    The blocks decide the model: NextItNet+'s dilated convolutions (`NextItNetPlus`) or
    SASRec+'s causal self-attention (`SASRecPlus`); SkipRec takes either's blocks. Every block
    is called as `block(hidden, padding_mask=..., training=...)`.

    Args:
      num_items: V.
      embedding_dim: d.
      blocks: the N residual blocks, a tuple of Keras layers.
      positions: the input length t - 1 for learned position embeddings (SASRec+), or None.
      final_norm: a layer normalisation of E_N before the softmax (SASRec+'s pre-norm blocks
        leave E_N unnormalised).
      dropout: in training only, the rate of units dropped from E_0 (the blocks drop their own).
      **kwargs: `softmax`, `num_sampled` and Keras arguments, see `SequentialRecommender`.
    """

    def __init__(
        self,
        num_items: int,
        embedding_dim: int,
        blocks: Sequence[keras.layers.Layer],
        positions=None,
        final_norm: bool = False,
        dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(num_items, embedding_dim, **kwargs)
        self.dropout = dropout
        self.embedding_dropout = optional_dropout(dropout)
        # A tuple, not a list: Keras 3 wraps lists in a container that tf.train.Checkpoint and
        # tf.saved_model do not see into, so blocks held in a list would be missing from both.
        self.residual_blocks = tuple(blocks)
        self.position_embedding = (
            keras.layers.Embedding(positions, embedding_dim, name="position_embedding")
            if positions
            else None
        )
        self.final_norm = (
            keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm") if final_norm else None
        )

    @property
    def num_blocks(self) -> int:
        return len(self.residual_blocks)

    @property
    def backbone_layers(self):
        """The layers two-stage training copies from a trained backbone, the blocks included."""
        optional = (self.position_embedding, self.final_norm)
        return [
            self.item_embedding,
            *self.residual_blocks,
            *(layer for layer in optional if layer is not None),
            self.output_layer,  # after the item embedding: a tied one holds it too
        ]

    def embed(self, inputs, training=False):
        """E_0 (`embed_items`) `[batch, seq_len, d]`, with dropout in training."""
        hidden = embed_items(self.item_embedding, self.position_embedding, inputs)
        if training and self.embedding_dropout:
            hidden = self.embedding_dropout(hidden, training=True)
        return hidden

    def finish(self, hidden):
        """E_N as the softmax sees it: normalised by `final_norm` if the model has one."""
        return hidden if self.final_norm is None else self.final_norm(hidden)

    def encode(self, inputs, training=False):
        hidden = self.embed(inputs, training)
        padding_mask = inputs == 0
        for block in self.residual_blocks:
            hidden = block(hidden, padding_mask=padding_mask, training=training)
        return self.finish(hidden)
