"""Real skipping: Eq. 5 where a block runs only on the rows (users) that retain it."""

import tensorflow as tf
from tensorflow.python.ops import cond_v2

SKIPPED, SOME_ROWS, ALL_ROWS = 0, 1, 2
GROUP = 4  # blocks decided by one call in the one-user plan


def run_retained_blocks(hidden, actions, blocks):
    """E_l = block_l(E_{l-1}) for the rows with actions[:, l] = 1, E_{l-1} for the others (Eq. 5).

    Unlike the masked training form, a block is computed only for the rows that retain it. Two
    execution plans, chosen per request by its batch size (`tools/benchmark_inference.py`
    measures both):
      - several users: one `Case` per block, inlined into the graph (switch/merge): nobody
        retains the block (nothing runs, not even a gather), some rows do (gather them, run the
        block, scatter them back), or every row does (the block as is).
      - one user: at batch 1 the ops are tiny and a branch costs as much as a quarter of a
        block at d = 64 (an inlined branch still visits the untaken branch's ops; a called one
        costs a function call). So the blocks go in groups of `GROUP`, and one call per group
        runs the function of exactly the retained subset, its blocks inlined in it (2^GROUP
        small functions per group).

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


def _one_user(hidden, actions, blocks):
    # The one row's actions; reduce_max rather than [0] keeps the trace valid for any batch.
    retain = tf.cast(tf.reduce_max(actions, axis=0) > 0, tf.int32)
    groups = [blocks[start : start + GROUP] for start in range(0, len(blocks), GROUP)]
    # Subset code of a group: bit i set = its block i retained.
    retain = tf.pad(retain, [[0, GROUP * len(groups) - len(blocks)]])
    codes = tf.reduce_sum(tf.reshape(retain, [-1, GROUP]) * 2 ** tf.range(GROUP), axis=1)
    for group, code in zip(groups, tf.unstack(codes, num=len(groups))):
        subsets = [[b for i, b in enumerate(group) if c >> i & 1] for c in range(2 ** len(group))]
        hidden = _function_call(
            code,
            [lambda subset=subset, hidden=hidden: _in_order(hidden, subset) for subset in subsets],
        )
    return hidden


def _in_order(hidden, blocks):
    for block in blocks:
        hidden = block(hidden)
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
