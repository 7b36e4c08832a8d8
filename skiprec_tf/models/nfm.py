"""NFM (He and Chua 2017) with the items of the sequence as its features, as in the paper's
Table 2."""

import keras
import tensorflow as tf

from skiprec_tf.layers.bi_interaction import BiInteractionPooling
from skiprec_tf.layers.dropout import optional_dropout
from skiprec_tf.models.base import SequentialRecommender


class NFM(SequentialRecommender):
    """The bi-interaction pooling of the items up to each position (NFM, Eq. 4), a hidden layer
    z = ReLU(W_1 [f_BI; s] + b_1) (Eq. 5), and the softmax of Eq. 3 on z: every position
    predicts the next item from the items before it.

    s = sum_i v_i stands for the candidate's own pairs: with the candidate item j among NFM's
    features, f_BI gains v_j * s, so without s a position with one item before it would see
    nothing. NFM normalises by batch normalisation; here a layer normalisation does it, because
    f_BI grows with the number of items pooled (1 to t - 1 along a sequence) and a
    per-position normalisation is the same in training and serving.

    Args:
      num_items: V.
      embedding_dim: d, also the hidden layer's units.
      dropout: in training only, the rate of units dropped from [f_BI; s] (NFM's dropout).
      **kwargs: `softmax`, `num_sampled` and Keras arguments, see `SequentialRecommender`.
    """

    def __init__(self, num_items: int, embedding_dim: int = 64, dropout: float = 0.0, **kwargs):
        super().__init__(num_items, embedding_dim, **kwargs)
        self.bi_interaction = BiInteractionPooling(name="bi_interaction")
        self.norm = keras.layers.LayerNormalization(epsilon=1e-5, name="norm")
        self.dropout = optional_dropout(dropout)
        self.hidden_layer = keras.layers.Dense(embedding_dim, activation="relu", name="hidden")

    def encode(self, inputs, training=False):
        padding = tf.cast(inputs != 0, tf.float32)[..., None]
        embeddings = self.item_embedding(inputs) * padding
        pairs, items = self.bi_interaction(embeddings), tf.cumsum(embeddings, axis=1)
        pooled = self.norm(tf.concat([pairs, items], axis=-1))
        if training and self.dropout:
            pooled = self.dropout(pooled, training=True)
        return self.hidden_layer(pooled)
