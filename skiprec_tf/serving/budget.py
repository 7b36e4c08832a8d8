"""A compute budget per request: at most `max_blocks` of the N blocks per user, chosen by the
policy's own preference, without retraining or re-exporting."""

import tensorflow as tf


def cap_blocks(actions, retain_margin, max_blocks):
    """The greedy actions with at most `max_blocks` blocks retained per row.

    A row that retains more blocks than its cap keeps the ones with the highest retain
    probability, that is the highest `retain_margin` (the retain logit minus the skip logit, of
    which the probability is the sigmoid); ties go to the earlier block. A backbone alone has
    equal margins, so a cap c keeps its first c blocks: the backbone truncated to c blocks.
    A cap of N (or more) changes nothing; a cap of 0 retains no block.

    Args:
      actions: `[batch, N]` greedy actions, 1 = retain.
      retain_margin: `[batch, N]` float; higher = more worth running.
      max_blocks: int32 scalar (one cap for the request) or `[batch]` (one cap per row); >= 0.

    Returns:
      `[batch, N]` float32 actions, 1 = retain.
    """
    batch = tf.shape(actions)[0]
    max_blocks = tf.convert_to_tensor(max_blocks, tf.int32)
    caps = tf.reshape(max_blocks, [-1])
    caps = tf.cond(tf.size(caps) == 1, lambda: tf.fill([batch], caps[0]), lambda: caps)
    checks = [
        tf.debugging.assert_rank_in(
            max_blocks, [0, 1], message="max_blocks: a scalar, or one cap per row"
        ),
        tf.debugging.assert_equal(
            tf.size(caps), batch, message="max_blocks: one cap per row of item_ids, or a scalar"
        ),
        # The request's caps, not `caps`: a negative one is an error even for an empty batch.
        tf.debugging.assert_non_negative(max_blocks, message="max_blocks must be >= 0"),
    ]
    with tf.control_dependencies(checks):
        caps = tf.identity(caps)
    retained = actions > 0
    # Rank the retained blocks by margin (stable: ties keep block order), skipped ones last.
    priority = tf.where(retained, tf.cast(retain_margin, tf.float32), -float("inf"))
    order = tf.argsort(priority, axis=1, direction="DESCENDING", stable=True)
    rank = tf.argsort(order, axis=1, stable=True)  # rank[b, l]: block l's place in row b's order
    return tf.cast(retained & (rank < caps[:, None]), tf.float32)
