"""The Adam and AdamW that compute alpha once per step update every weight exactly as Keras's do."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from skiprec_tf.training.optimizers import Adam, AdamW, adam_update


def _train(optimizer, steps=4):
    """The weights after `steps` updates of a dense kernel, a bias and an embedding (whose gradient
    is an IndexedSlices) by `optimizer`, in a compiled step as training runs it."""
    rng = np.random.default_rng(0)
    kernel = keras.Variable(rng.normal(size=(6, 3)).astype("float32"), name="kernel")
    bias = keras.Variable(np.zeros(3, "float32"), name="bias")
    embedding = keras.Variable(rng.normal(size=(10, 6)).astype("float32"), name="embedding")
    variables = [kernel, bias, embedding]
    optimizer.build(variables)
    if isinstance(optimizer, keras.optimizers.AdamW):
        optimizer.exclude_from_weight_decay(var_names=["bias"])

    @tf.function
    def step(ids, targets):
        with tf.GradientTape() as tape:
            hidden = tf.gather(embedding, ids)
            loss = tf.reduce_mean(tf.square(hidden @ kernel + bias - targets))
        gradients = tape.gradient(loss, variables)
        assert isinstance(gradients[2], tf.IndexedSlices)
        optimizer.apply(gradients, variables)

    for _ in range(steps):
        step(
            tf.constant(rng.integers(0, 10, size=5), tf.int32),
            tf.constant(rng.normal(size=(5, 3)).astype("float32")),
        )
    return [v.numpy() for v in variables]


@pytest.mark.parametrize(
    "ours, keras_optimizer",
    [
        (lambda: Adam(3e-3), lambda: keras.optimizers.Adam(3e-3)),
        (
            lambda: AdamW(1e-2, weight_decay=0.1),
            lambda: keras.optimizers.AdamW(1e-2, weight_decay=0.1),
        ),
    ],
    ids=["adam", "adamw"],
)
def test_updates_equal_keras_bit_for_bit(ours, keras_optimizer):
    for mine, reference in zip(_train(ours()), _train(keras_optimizer())):
        np.testing.assert_array_equal(mine, reference)


def test_fewer_ops_than_keras():
    """The point of it: one alpha per step, not one per variable."""

    def num_ops(optimizer):
        variables = [keras.Variable(np.ones((2, 2), "float32")) for _ in range(8)]
        optimizer.build(variables)
        gradients = [tf.ones((2, 2)) for _ in variables]
        graph = tf.function(lambda: optimizer.apply(gradients, variables)).get_concrete_function()
        return len(graph.graph.get_operations())

    assert num_ops(Adam(1e-3)) < 0.75 * num_ops(keras.optimizers.Adam(1e-3))


def test_variables_of_one_shape_share_one_traced_update():
    variables = [
        keras.Variable(np.ones((5, 13), "float32")) for _ in range(8)
    ]  # a shape of its own
    optimizer = Adam(1e-3)
    optimizer.build(variables)
    before = adam_update.experimental_get_tracing_count()
    tf.function(lambda: optimizer.apply([tf.ones((5, 13))] * 8, variables)).get_concrete_function()
    assert adam_update.experimental_get_tracing_count() - before == 1


def test_amsgrad_refused():
    variables = [keras.Variable(np.ones(2, "float32"))]
    optimizer = Adam(1e-3, amsgrad=True)
    optimizer.build(variables)
    with pytest.raises(ValueError, match="amsgrad"):
        optimizer.apply([tf.ones(2)], variables)
