"""Real skipping: Eq. 5 where a block runs only on the rows (users) that retain it."""

import tensorflow as tf


def run_retained_blocks(hidden, actions, blocks):
    """E_l = block_l(E_{l-1}) for the rows with actions[:, l] = 1, E_{l-1} for the others (Eq. 5).

    Unlike the masked training form, a block is computed only for the rows that retain it: all
    rows (the block as is), none (nothing at all, not even a gather), or some (gather those rows,
    run the block, scatter them back). A batch of one user therefore runs exactly its own blocks.

    Args:
      hidden: `[batch, seq_len, d]` block input E_0.
      actions: `[batch, N]`, 1 = retain.
      blocks: the N residual blocks.

    Returns:
      `[batch, seq_len, d]` E_N^adaptive.
    """
    batch = tf.shape(hidden)[0]
    for l, block in enumerate(blocks):
        retain = actions[:, l] > 0
        active = tf.reduce_sum(tf.cast(retain, tf.int32))
        # One branch op per block: nobody (0), some (1) or every row (2) retains it.
        case = tf.where(active == batch, 2, tf.where(active == 0, 0, 1))
        hidden = tf.switch_case(
            case,
            [
                lambda hidden=hidden: hidden,
                lambda block=block, hidden=hidden, retain=retain: _gather_run_scatter(
                    block, hidden, retain
                ),
                lambda block=block, hidden=hidden: block(hidden),
            ],
        )
    return hidden


def _gather_run_scatter(block, hidden, retain):
    rows = tf.where(retain)
    return tf.tensor_scatter_nd_update(hidden, rows, block(tf.gather_nd(hidden, rows)))
