"""Real skipping in training: Eq. 5 where a block runs only on the users that retain it."""

import tensorflow as tf


def retaining_rows(hidden, actions, block, padding_mask=None):
    """Eq. 5 with every block l run on the gathered rows that retain it, scattered back: the
    training form of real skipping (`SkipRec.skip_in_training`), differentiable with respect to
    the blocks' weights and `hidden` (not `actions`).

    Unlike the served model's plans (`serving.skipping.run_retained_blocks`) it chooses no
    branch (32 blocks of three-way `switch_case`s, in the sampled and the greedy pass and their
    gradients, took minutes to trace): a block everybody retains runs on a copy of all rows, and
    one nobody retains on the first row, its output discarded (the gradient of a block's gathers
    over zero rows fails in TensorFlow 2.21's graphs).

    Args:
      hidden: `[batch, seq_len, d]` block input E_0.
      actions: `[batch, N]`, 1 = retain.
      block: `(l, hidden, padding_mask)` -> block l's output `[batch, seq_len, d]`.
      padding_mask: `[batch, seq_len]` True at padding, or None; a block gets its rows' part.

    Returns:
      `[batch, seq_len, d]` E_N^adaptive.
    """
    first_row = tf.range(tf.shape(hidden)[0]) == 0
    for l in range(actions.shape[1]):
        retain = actions[:, l] > 0
        anyone = tf.reduce_any(retain)
        rows = tf.where(retain | (first_row & ~anyone))
        rows_in = tf.gather_nd(hidden, rows)
        output = block(
            l, rows_in, None if padding_mask is None else tf.gather_nd(padding_mask, rows)
        )
        hidden = tf.tensor_scatter_nd_update(hidden, rows, tf.where(anyone, output, rows_in))
    return hidden
