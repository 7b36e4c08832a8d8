"""Caser (Tang and Wang 2018): convolutional sequence embedding of the latest L items."""

import keras
import tensorflow as tf

from skiprec_tf.layers.caser_convolutions import CaserConvolutions
from skiprec_tf.layers.dropout import optional_dropout
from skiprec_tf.models.base import SequentialRecommender


class Caser(SequentialRecommender):
    """z = ReLU(W [o; o'] + b) of Caser's horizontal and vertical convolutions (Caser, Eq. 7),
    then the softmax of Eq. 3 on z, at every position.

    Caser's user embedding P_u (y = W' [z; P_u] + b') is left out: the paper's protocol tests
    on held-out sub-sequences, so a user's embedding would be learned from the training split
    only and a sequence-only model is the comparison the protocol can make (as in the
    paper's Table 2, where every model reads only the sequence).

    Args:
      num_items: V.
      embedding_dim: d.
      window: L, the latest items every position reads.
      horizontal_filters: n_h, horizontal filters of each height 1..L.
      vertical_filters: n_v.
      dropout: in training only, the rate of units dropped from [o; o'] (Caser's dropout).
      **kwargs: `softmax`, `num_sampled` and Keras arguments, see `SequentialRecommender`.
    """

    def __init__(
        self,
        num_items: int,
        embedding_dim: int = 64,
        window: int = 5,
        horizontal_filters: int = 16,
        vertical_filters: int = 4,
        dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(num_items, embedding_dim, **kwargs)
        self.convolutions = CaserConvolutions(
            window, horizontal_filters, vertical_filters, name="convolutions"
        )
        self.dropout = optional_dropout(dropout)
        self.fully_connected = keras.layers.Dense(
            embedding_dim, activation="relu", name="fully_connected"
        )

    def encode(self, inputs, training=False):
        padding = tf.cast(inputs != 0, tf.float32)[..., None]
        features = self.convolutions(self.item_embedding(inputs) * padding)
        if training and self.dropout:
            features = self.dropout(features, training=True)
        return self.fully_connected(features)
