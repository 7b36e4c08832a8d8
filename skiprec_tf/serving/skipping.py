"""Real skipping: Eq. 5 where a block runs only on the rows (users) that retain it."""

import functools

import tensorflow as tf

SKIPPED, SOME_ROWS, ALL_ROWS = 0, 1, 2


def run_retained_blocks(hidden, actions, block, padding_mask=None):
    """E_l = block_l(E_{l-1}) for the rows with actions[:, l] = 1, E_{l-1} for the others (Eq. 5).

    Unlike the masked training form, a block is computed only for the rows that retain it, with
    one of two plans chosen per request by its batch size (`tools/benchmark_inference.py`
    measures both):
      - one user (batch 1): a loop over the indices of the blocks the user retains; its one body
        runs block l with the weights and tap positions picked by index. It costs about 10 to
        16 us per retained block (d = 64 and 256, batch 1) and nothing for a skipped one.
      - several users: one branch per block: nobody retains the block (nothing runs, not even a
        gather), some rows do (gather them, run the block, scatter them back), or every row does
        (the block as is).
    Each plan runs as a call of its own function (`optimized_call`), chosen by `tf.switch_case`,
    so that a request visits none of the other plan's ops: its branch holds one call op.

    Args:
      hidden: `[batch, seq_len, d]` block input E_0.
      actions: `[batch, N]`, 1 = retain.
      block: `(l, hidden, padding_mask)` -> block l's output `[batch, seq_len, d]`; `l` is a
        Python int or (the one-user plan) an int32 scalar tensor.
      padding_mask: `[batch, seq_len]` True at padding, for blocks that need it (SASRec+'s), or
        None; a block run on some rows gets their rows of it.

    Returns:
      `[batch, seq_len, d]` E_N^adaptive.
    """
    if tf.executing_eagerly():
        plan = _one_user if hidden.shape[0] == 1 else _several_users
        return plan(hidden, actions, block, padding_mask)
    several_users, one_user = (
        optimized_call(
            lambda hidden, actions, plan=plan: plan(hidden, actions, block, padding_mask)
        )
        for plan in (_several_users, _one_user)
    )
    # The public switch_case is lowered to switch/merge, as fast here as the non-lowered case op
    # of the private cond_v2.indexed_case that choosing the plan used before (docs/results.md).
    return tf.switch_case(
        tf.cast(tf.shape(hidden)[0] == 1, tf.int32),
        [lambda: several_users(hidden, actions), lambda: one_user(hidden, actions)],
    )


def _one_user(hidden, actions, block, padding_mask):
    # reduce_max over the one row (rather than [0]) keeps the trace valid for any batch.
    retained = tf.cast(tf.where(tf.reduce_max(actions, axis=0) > 0)[:, 0], tf.int32)
    count = tf.size(retained)
    _, hidden = tf.while_loop(
        lambda j, hidden: j < count,
        lambda j, hidden: (j + 1, block(retained[j], hidden, padding_mask)),
        (tf.constant(0), hidden),
    )
    return hidden


def _several_users(hidden, actions, block, padding_mask):
    batch = tf.shape(hidden)[0]
    active = tf.reduce_sum(tf.cast(actions > 0, tf.int32), axis=0)
    cases = tf.where(active == batch, ALL_ROWS, tf.where(active == 0, SKIPPED, SOME_ROWS))
    for l, case in enumerate(tf.unstack(cases, num=actions.shape[1])):
        branches = [None] * 3
        branches[SKIPPED] = lambda hidden=hidden: hidden
        branches[SOME_ROWS] = lambda hidden=hidden, l=l: _gather_run_scatter(
            functools.partial(block, l), hidden, padding_mask, actions[:, l] > 0
        )
        branches[ALL_ROWS] = lambda hidden=hidden, l=l: block(l, hidden, padding_mask)
        hidden = tf.switch_case(case, branches)
    return hidden


def _gather_run_scatter(block, hidden, padding_mask, retain):
    rows = tf.where(retain)
    if padding_mask is not None:
        padding_mask = tf.gather_nd(padding_mask, rows)
    output = block(tf.gather_nd(hidden, rows), padding_mask)
    return tf.tensor_scatter_nd_update(hidden, rows, output)


def optimized_call(fn, input_signature=None):
    """`fn` as a call of its own function, which TensorFlow optimizes like the top-level graph.

    Inlined into the plan choice's branch it is not: there a MatMul + BiasAdd stays two plain ops
    instead of one fused oneDNN op; a plain `tf.function` (inlined) made SkipRec-RL's batch-1
    requests 23-25% slower (docs/results.md). The attribute keeps the call from being inlined.

    One of the package's two uses of private TensorFlow API (the other:
    `xla_cache.align_function_names`): `_noinline` is no documented attribute of `tf.function`,
    only one that `experimental_attributes` accepts.
    `tests/serving/test_skipping.py` fails if TensorFlow stops accepting or keeping it. The
    request's rank check (`serving/export.py`) uses it too: inlined, its `tf.rank` of a
    `[None, None]` signature input would be folded to 2 and the check dropped.

    Args:
      fn: `(hidden, actions)` -> hidden, one plan of `run_retained_blocks`; or any function.
      input_signature: `tf.function`'s, to trace `fn` once for inputs of any shape.

    Returns:
      `fn` as a `tf.function` whose calls stay calls (`PartitionedCall`) in the caller's graph.
    """
    return tf.function(
        fn,
        input_signature=input_signature,
        autograph=False,
        experimental_attributes={"_noinline": True},
    )
