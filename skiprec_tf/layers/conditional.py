"""Real skipping: Eq. 5 where a block runs only on the rows (users) that retain it."""

import tensorflow as tf
from tensorflow.python.ops import cond_v2

SKIPPED, SOME_ROWS, ALL_ROWS = 0, 1, 2


def run_retained_blocks(hidden, actions, blocks):
    """E_l = block_l(E_{l-1}) for the rows with actions[:, l] = 1, E_{l-1} for the others (Eq. 5).

    Unlike the masked training form, a block is computed only for the rows that retain it: all
    rows (the block as is), none (nothing at all, not even a gather), or some (gather those rows,
    run the block, scatter them back). A batch of one user therefore runs exactly its own blocks.

    Two execution plans, chosen per request by its batch size (both measured by
    `tools/benchmark_inference.py`):
      - one user: each block is a function call that happens only if the user retains it. At
        batch 1 the ops are tiny and per-op dispatch dominates; a block as its own function runs
        about twice as fast as the same ops inlined into the big graph, and a skipped block costs
        one call of the identity.
      - several users: one `Case` per block, inlined into the graph (switch/merge), so the large
        ops keep the executor's parallelism.

    Args:
      hidden: `[batch, seq_len, d]` block input E_0.
      actions: `[batch, N]`, 1 = retain.
      blocks: the N residual blocks.

    Returns:
      `[batch, seq_len, d]` E_N^adaptive.
    """
    one_user = tf.cast(tf.shape(hidden)[0] == 1, tf.int32)
    return _function_call(
        one_user,
        [
            lambda: _several_users(hidden, actions, blocks),
            lambda: _one_user(hidden, actions, blocks),
        ],
    )


def run_every_block(hidden, blocks):
    """The blocks in order, every row retaining every block, with the plans of
    `run_retained_blocks` (the policy network's blocks, in serving)."""
    return run_retained_blocks(hidden, tf.ones([tf.shape(hidden)[0], len(blocks)]), blocks)


def _one_user(hidden, actions, blocks):
    # The one row's actions; reduce_max rather than [0] keeps the trace valid for any batch.
    retains = tf.unstack(tf.cast(tf.reduce_max(actions, axis=0) > 0, tf.int32), num=len(blocks))
    for block, retain in zip(blocks, retains):
        hidden = _function_call(
            retain, [lambda hidden=hidden: hidden, lambda block=block, hidden=hidden: block(hidden)]
        )
    return hidden


def _several_users(hidden, actions, blocks):
    batch = tf.shape(hidden)[0]
    active = tf.reduce_sum(tf.cast(actions > 0, tf.int32), axis=0)
    cases = tf.where(active == batch, ALL_ROWS, tf.where(active == 0, SKIPPED, SOME_ROWS))
    for l, (block, case) in enumerate(zip(blocks, tf.unstack(cases, num=len(blocks)))):
        branches = [None] * 3
        branches[SKIPPED] = lambda hidden=hidden: hidden
        branches[SOME_ROWS] = lambda block=block, hidden=hidden, l=l: _gather_run_scatter(
            block, hidden, actions[:, l] > 0
        )
        branches[ALL_ROWS] = lambda block=block, hidden=hidden: block(hidden)
        hidden = tf.switch_case(case, branches)
    return hidden


def _gather_run_scatter(block, hidden, retain):
    rows = tf.where(retain)
    return tf.tensor_scatter_nd_update(hidden, rows, block(tf.gather_nd(hidden, rows)))


def _function_call(branch_index, branch_fns):
    """`tf.switch_case` kept as a call of the chosen branch's function.

    `tf.switch_case` marks its op to be lowered to switch/merge, which inlines every branch into
    the caller's graph: the executor then still visits each op of an untaken branch (as dead), and
    the whole batch-1 plan would be inlined into one large graph. The public API has no switch
    for this, so this uses `cond_v2.indexed_case`, which `tf.switch_case` calls; the attribute
    it sets (`_lower_using_switch_merge`: false) is saved with the SavedModel and honoured by
    TF Serving. `tests/layers/test_conditional.py` checks the exported graph keeps it.
    """
    if tf.executing_eagerly():
        return branch_fns[int(branch_index)]()
    return cond_v2.indexed_case(branch_index, branch_fns, lower_using_switch_merge=False)
