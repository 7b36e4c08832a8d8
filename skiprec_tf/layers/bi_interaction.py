"""NFM's bi-interaction pooling of a sequence's items, at every prefix (He and Chua 2017)."""

import keras
import tensorflow as tf


class BiInteractionPooling(keras.layers.Layer):
    """f_BI(V_x) = 1/2 [(sum_i v_i)^2 - sum_i v_i^2] (NFM, Eq. 4): the sum of the element-wise
    products of every pair of the features' embeddings, here the items of the sequence up to
    each position (running sums, so every position reads only its own prefix).

    Input `[batch, seq_len, d]` item embeddings (padding zero); output `[batch, seq_len, d]`.
    """

    def call(self, embeddings):
        square_of_sum = tf.square(tf.cumsum(embeddings, axis=1))
        sum_of_squares = tf.cumsum(tf.square(embeddings), axis=1)
        return 0.5 * (square_of_sum - sum_of_squares)
