"""Per-example noise: each user's uniform draws from a hash of (the step's seed, their sequence).

A stream of random numbers over the batch (`tf.random.stateless_uniform([batch, ...], seed)`)
gives an example other draws when the batch is split across replicas. Drawn from a hash of the
example's own sequence and the step's seed instead, its noise is the same whatever the split, so
a run under `tf.distribute` samples what one process with the same global batch samples.
"""

import tensorflow as tf

_GOLDEN = 0x9E3779B9  # 2^32 / phi: spreads consecutive counters over the 32 bits


def _fmix32(h):
    """MurmurHash3's finaliser: a bijective, well-mixing map of uint32."""
    h = tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, 16))
    h = h * tf.constant(0x85EBCA6B, tf.uint32)
    h = tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, 13))
    h = h * tf.constant(0xC2B2AE35, tf.uint32)
    return tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, 16))


def _uint32(x):
    return tf.cast(tf.bitwise.bitwise_and(tf.cast(x, tf.int64), 0xFFFFFFFF), tf.uint32)


def sequence_keys(inputs):
    """`[batch]` uint32 hash of each row of item ids `[batch, length]` (position-aware)."""
    length = tf.shape(inputs)[1]
    positions = _uint32(tf.range(length)) * tf.constant(_GOLDEN, tf.uint32)
    mixed = _fmix32(_uint32(inputs) + positions[None, :])
    return _fmix32(_uint32(tf.reduce_sum(tf.cast(mixed, tf.int64), axis=1)))


def example_uniform(inputs, seed, num: int):
    """Uniform noise in (0, 1) `[batch, num]`: row b a function of `seed` (a `[2]` stateless
    seed) and `inputs[b]` alone."""
    seed = _uint32(seed)
    counters = _uint32(tf.range(num)) * tf.constant(_GOLDEN, tf.uint32) + seed[0]
    h = _fmix32(tf.bitwise.bitwise_xor(sequence_keys(inputs)[:, None], _fmix32(counters)[None]))
    h = _fmix32(h + seed[1])
    # The top 24 bits, centred in their interval: never 0 or 1.
    return (tf.cast(tf.bitwise.right_shift(h, 8), tf.float32) + 0.5) / 2.0**24
