"""Caser's horizontal and vertical convolutions over the latest L items (Tang and Wang 2018)."""

import keras
import tensorflow as tf


def latest_items(embeddings, window: int):
    """`[batch, seq_len, L, d]`: at every position, the embeddings of the latest L items up to
    and including it, oldest first; zeros before the sequence starts (causal: a position never
    reads a later one)."""
    seq_len = tf.shape(embeddings)[1]
    padded = tf.pad(embeddings, [[0, 0], [window - 1, 0], [0, 0]])
    return tf.stack([padded[:, i : i + seq_len] for i in range(window)], axis=2)


class CaserConvolutions(keras.layers.Layer):
    """Caser's two convolutions of the L x d "image" E of the latest L items (Caser, section 3.2).

    Horizontal: for every height h = 1..L, `horizontal_filters` filters h x d slide down E,
    ReLU, then max-pooled over the L - h + 1 places: o, of L * n_h values. Vertical:
    `vertical_filters` filters L x 1, each a weighted sum of E's rows: o', of n_v * d values.
    Both at every position of a sequence at once, so that every position predicts the next
    item as NextItNet's do.

    Input `[batch, seq_len, d]` item embeddings (padding zero); output `[batch, seq_len,
    L * n_h + n_v * d]`, [o; o'].
    """

    def __init__(self, window: int, horizontal_filters: int, vertical_filters: int, **kwargs):
        super().__init__(**kwargs)
        self.window = window
        self.horizontal = tuple(
            keras.layers.Conv1D(horizontal_filters, h, activation="relu", name=f"horizontal_{h}")
            for h in range(1, window + 1)
        )
        self.vertical = keras.layers.EinsumDense(
            "btld,lv->btvd",
            output_shape=(None, vertical_filters, None),
            bias_axes="v",
            name="vertical",
        )

    def call(self, embeddings):
        batch, seq_len = tf.shape(embeddings)[0], tf.shape(embeddings)[1]
        images = latest_items(embeddings, self.window)  # [batch, seq_len, L, d]
        rows = tf.reshape(images, [-1, self.window, embeddings.shape[-1]])
        horizontal = [tf.reduce_max(conv(rows), axis=1) for conv in self.horizontal]
        horizontal = tf.reshape(tf.concat(horizontal, axis=-1), [batch, seq_len, -1])
        vertical = tf.reshape(self.vertical(images), [batch, seq_len, -1])
        return tf.concat([horizontal, vertical], axis=-1)
