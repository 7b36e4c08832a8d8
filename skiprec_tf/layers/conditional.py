"""Real skipping: Eq. 5 where a block runs only on the rows (users) that retain it."""

import tensorflow as tf
from tensorflow.python.ops import cond_v2

SKIPPED, SOME_ROWS, ALL_ROWS = 0, 1, 2
GROUP = 4  # blocks per function call of the one-user plan


def run_retained_blocks(hidden, actions, blocks):
    """E_l = block_l(E_{l-1}) for the rows with actions[:, l] = 1, E_{l-1} for the others (Eq. 5).

    Unlike the masked training form, a block is computed only for the rows that retain it, with
    one of two plans chosen per request by its batch size (`tools/benchmark_inference.py`
    measures both):
      - one user (batch 1): the blocks go in groups of `GROUP`, and one function call per group
        runs exactly the retained subset of its blocks (2^GROUP small functions per group). At
        batch 1 the ops are tiny, and a branch per block would cost a sizeable share of a block
        at d = 64.
      - several users: one branch per block, inlined into the plan's function: nobody retains
        the block (nothing runs, not even a gather), some rows do (gather them, run the block,
        scatter them back), or every row does (the block as is).
    The choice between the plans is a function call too, so that neither plan's ops are visited
    by a request that takes the other (inlined, that cost 0.3 ms at batch 1, d = 64, and 0.5 ms
    at d = 256). The several-users plan runs as a call of its own function (`_optimized_call`),
    not as the branch's body: large blocks ran 13-20% slower directly inside a branch (d = 256,
    batch 256).

    Args:
      hidden: `[batch, seq_len, d]` block input E_0.
      actions: `[batch, N]`, 1 = retain.
      blocks: the N residual blocks, callables `[batch, seq_len, d]` -> `[batch, seq_len, d]`.

    Returns:
      `[batch, seq_len, d]` E_N^adaptive.
    """
    if tf.executing_eagerly():
        plan = _one_user if hidden.shape[0] == 1 else _several_users
        return plan(hidden, actions, blocks)
    several_users = _optimized_call(lambda hidden, actions: _several_users(hidden, actions, blocks))
    return _function_call(
        tf.cast(tf.shape(hidden)[0] == 1, tf.int32),
        [lambda: several_users(hidden, actions), lambda: _one_user(hidden, actions, blocks)],
    )


def _one_user(hidden, actions, blocks):
    groups = [blocks[start : start + GROUP] for start in range(0, len(blocks), GROUP)]
    # The subset code of a group: bit i set = its block i retained. reduce_max over the one row
    # (rather than [0]) keeps the trace valid for any batch.
    retained = tf.cast(tf.reduce_max(actions, axis=0) > 0, tf.int32)
    retained = tf.pad(retained, [[0, GROUP * len(groups) - len(blocks)]])
    codes = tf.reduce_sum(tf.reshape(retained, [-1, GROUP]) * 2 ** tf.range(GROUP), axis=1)
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


def _optimized_call(fn):
    """`fn` as a call of its own function, which TensorFlow optimizes like the top-level graph.

    The body of a branch of `_function_call` is not: there a MatMul + BiasAdd stays two plain
    ops instead of one fused oneDNN op, 25% slower (batch 1, d = 256). The attribute keeps the
    call from being inlined into the branch. The one-user plan's subsets stay branch bodies: as
    calls they cost more at d = 64 than the fusion saves (docs/results.md).
    """
    return tf.function(fn, autograph=False, experimental_attributes={"_noinline": True})


def _function_call(branch_index, branch_fns):
    """`tf.switch_case` kept as a call of the chosen branch's function.

    `tf.switch_case` marks its op to be lowered to switch/merge, which inlines every branch into
    the caller's graph, where the executor still visits each op of an untaken branch (as dead):
    measured at batch 1, d = 64, that made a skipped block cost about half of a run one. The
    public API has no option for this, so this calls `cond_v2.indexed_case` (what
    `tf.switch_case` calls) directly; the attribute it sets (`_lower_using_switch_merge`: false)
    is saved in the SavedModel and honoured by any TensorFlow runtime, TF Serving included.
    `tests/test_export.py` checks the exported graph keeps it.
    """
    if tf.executing_eagerly():
        return branch_fns[int(branch_index)]()
    return cond_v2.indexed_case(branch_index, branch_fns, lower_using_switch_merge=False)
