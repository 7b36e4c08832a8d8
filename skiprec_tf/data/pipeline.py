"""tf.data pipelines of (input, target) = (seq[:-1], seq[1:]) batches."""

import math

import numpy as np
import tensorflow as tf


def next_item_pairs(sequences):
    """Splits `[batch, t]` sequences into inputs `seq[:, :-1]` and targets `seq[:, 1:]`."""
    return sequences[:, :-1], sequences[:, 1:]


def steps_per_epoch(num_sequences: int, batch_size: int) -> int:
    return math.ceil(num_sequences / batch_size)


def training_batches(
    sequences: np.ndarray,
    batch_size: int,
    seed: int,
    start_epoch: int,
    epochs: int,
    start_step: int = 0,
) -> tf.data.Dataset:
    """Shuffled batches for epochs `start_epoch .. epochs - 1`, one after the other, from the
    batch `start_step` of `start_epoch` on.

    Epoch e is shuffled by a stateless shuffle seeded with (seed, e), so (epoch, step) is the
    pipeline's whole position: a run resumed there sees exactly the batches the uninterrupted
    run would have seen, without an iterator checkpoint.
    """
    table = tf.constant(sequences)
    num_sequences = len(sequences)

    def epoch_order(epoch):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(num_sequences), seed=tf.stack([tf.cast(seed, tf.int64), epoch])
        )
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    return (
        tf.data.Dataset.range(start_epoch, epochs)
        .flat_map(epoch_order)
        .skip(start_step)
        .map(lambda rows: next_item_pairs(tf.gather(table, rows)))
        .prefetch(tf.data.AUTOTUNE)
    )


def evaluation_batches(sequences: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """Batches of all sequences in order, for validation, test and prediction."""
    return (
        tf.data.Dataset.from_tensor_slices(sequences)
        .batch(batch_size)
        .map(next_item_pairs)
        .prefetch(tf.data.AUTOTUNE)
    )
