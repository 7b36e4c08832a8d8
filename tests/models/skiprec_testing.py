"""The small SkipRec and batch the model tests share (imported by its basename: pytest's default
"prepend" import mode puts this directory, which has no `__init__.py`, on `sys.path`)."""

import numpy as np
import tensorflow as tf

from skiprec_tf.models import CNNPolicy, SkipRec
from skiprec_tf.models.nextitnet import nextitnet_blocks

V, N, D = 30, 4, 8


def make_skiprec(cls=SkipRec, policy_cls=CNNPolicy, **kwargs):
    """`cls` with a `policy_cls` policy over N blocks of width D, every block's lambda 0.5."""
    blocks = nextitnet_blocks((1, 4) * (N // 2))
    model = cls(V, policy_cls(V, N, D), embedding_dim=D, blocks=blocks, seed=1, **kwargs)
    model(tf.zeros([1, 7], tf.int32))
    for block in model.residual_blocks:  # trained blocks, not the identity of a fresh ReZero block
        block.rezero_lambda.assign(0.5)
    return model


def make_batch(rows=6, length=8, seed=0):
    """Inputs and targets `[rows, length - 1]` of random sequences without padding."""
    sequences = np.random.default_rng(seed).integers(1, V + 1, size=(rows, length))
    return tf.constant(sequences[:, :-1], tf.int32), tf.constant(sequences[:, 1:], tf.int32)
