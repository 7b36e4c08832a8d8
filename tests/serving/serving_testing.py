"""What the serving tests share (imported by its basename, as tests/models/skiprec_testing.py):
`python -m skiprec_tf.main` in a subprocess, a tiny run whose policy decides per user, and served
blocks that count the rows they run on."""

import os
import subprocess
import sys

import numpy as np
import tensorflow as tf

from skiprec_tf.training.run_dir import RunDir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_main(*flags):
    """`python -m skiprec_tf.main FLAGS` from the project root; the completed process."""
    return subprocess.run(
        [sys.executable, "-m", "skiprec_tf.main", *flags],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip


def mixed_policy_run(run_dir, rows: int, lowest_id: int = 0, seed: int = 1):
    """(config, model, item_ids, inputs) of the SkipRec run in `run_dir` with its policy head
    pushed to mixed per-user decisions, so that real skipping is exercised, and `rows` random
    internal-id sequences (ids from `lowest_id`; 0 is padding)."""
    config, model, item_ids = RunDir(run_dir).load_model()
    rng = np.random.default_rng(seed)
    head = model.policy.logits
    head.kernel.assign(rng.normal(scale=3.0, size=head.kernel.shape).astype("float32"))
    inputs = tf.constant(
        rng.integers(lowest_id, len(item_ids), size=(rows, config.data.input_length)), tf.int32
    )
    return config, model, item_ids, inputs


class RowCountingBlocks:
    """The served blocks of `stacked` (`stack_blocks`) as `run_retained_blocks` takes them,
    counting in `rows_seen[l]` the rows block l is run on (runs, not masks)."""

    def __init__(self, stacked):
        self.block = stacked.read()
        self.rows_seen = tf.Variable(tf.zeros([len(stacked)], tf.int32), trainable=False)

    def __call__(self, l, hidden, padding_mask):
        rows = tf.one_hot(l, self.rows_seen.shape[0], dtype=tf.int32) * tf.shape(hidden)[0]
        self.rows_seen.assign_add(rows)
        return self.block(l, hidden, padding_mask)
