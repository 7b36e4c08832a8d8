"""Scores of every item from the item embeddings themselves (tied input and output embeddings)."""

import keras
import tensorflow as tf


class TiedOutput(keras.layers.Layer):
    """Eq. 3's item scores with W tied to the item embedding matrix: s = E_N e_i^T + b_i.

    Beyond the paper (SASRec and RecBole's models score items this way): V x d fewer weights
    than a separate output layer, and an item's input and output vectors learn from each other,
    which helps small data sets. The bias b is the layer's only weight of its own.

    Args:
      item_embedding: the model's `keras.layers.Embedding` of the V + 1 items.

    Input `[..., d]`, output `[..., V + 1]`.
    """

    def __init__(self, item_embedding: keras.layers.Embedding, **kwargs):
        super().__init__(**kwargs)
        self.item_embedding = item_embedding

    def build(self, input_shape):
        self.bias = self.add_weight(
            name="bias", shape=(self.item_embedding.input_dim,), initializer="zeros"
        )

    @property
    def kernel(self):
        """W as a `Dense` layer holds it, `[d, V + 1]` (for the sampled softmax)."""
        return tf.transpose(self.item_embedding.embeddings)

    def call(self, hidden):
        # One 2-D MatMul over the positions as rows: a batched matmul of `[batch, t, d]` by the
        # embeddings would take their gradient as a `[V + 1, d]` product per sequence and sum
        # them (as `attention_block.dense`).
        rows = tf.reshape(hidden, [-1, hidden.shape[-1]])
        scores = tf.nn.bias_add(
            tf.matmul(rows, self.item_embedding.embeddings, transpose_b=True), self.bias
        )
        return tf.reshape(scores, tf.concat([tf.shape(hidden)[:-1], [-1]], axis=0))
