"""Tests of the NextItNet+ model: shapes, identity at initialisation, the masked loss."""

import numpy as np
import pytest
import tensorflow as tf

from skiprec_tf.models import NextItNetPlus


def _model(**kwargs):
    model = NextItNetPlus(num_items=50, embedding_dim=8, dilations=(1, 4, 1, 4), **kwargs)
    model(tf.zeros([1, 9], tf.int32))
    return model


def test_shapes():
    model = _model()
    inputs = tf.constant(np.random.default_rng(0).integers(0, 51, size=(3, 9)), tf.int32)
    assert model.encode(inputs).shape == (3, 9, 8)
    assert model(inputs).shape == (3, 51)
    assert model.num_blocks == 4


def test_fresh_model_encodes_to_its_embeddings():
    model = _model()
    inputs = tf.constant([[0, 0, 3, 7, 9, 1, 2, 3, 4]])
    np.testing.assert_array_equal(model.encode(inputs), model.item_embedding(inputs))


def test_padding_positions_add_nothing_to_the_loss():
    model = _model()
    inputs = tf.constant([[0, 0, 0, 5, 6, 7, 8, 9, 10]])
    targets = tf.constant([[0, 0, 5, 6, 7, 8, 9, 10, 11]])
    hidden = model.encode(inputs)
    loss = model.next_item_loss(hidden, inputs, targets)
    # Only the 6 positions with a real input and target (5->6 ... 10->11) count.
    logits = model.output_layer(hidden)[0, 3:]
    expected = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets[0, 3:], logits=logits)
    )
    np.testing.assert_allclose(loss, expected, rtol=1e-6)
    # Changing a padded target changes nothing.
    other = tf.constant([[0, 0, 2, 6, 7, 8, 9, 10, 11]])
    np.testing.assert_allclose(model.next_item_loss(hidden, inputs, other), loss, rtol=1e-6)


def test_sampled_softmax_loss_is_finite_and_trains():
    model = _model(softmax="sampled", num_sampled=10)
    model.compile(optimizer="adam")
    x = tf.constant(np.random.default_rng(1).integers(1, 51, size=(16, 10)), tf.int32)
    history = model.fit(x[:, :-1], x[:, 1:], epochs=2, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_invalid_softmax_is_named():
    with pytest.raises(ValueError, match="softmax"):
        NextItNetPlus(num_items=5, embedding_dim=4, softmax="hierarchical")


def test_dropout_acts_in_training_only():
    model = _model(dropout=0.3)
    for block in model.residual_blocks:  # trained blocks: dropout in F(E) shows
        block.rezero_lambda.assign(0.5)
    inputs = tf.constant(np.random.default_rng(1).integers(1, 51, size=(4, 9)), tf.int32)
    np.testing.assert_array_equal(model.encode(inputs), model.encode(inputs))
    np.testing.assert_array_equal(model(inputs), model(inputs, training=False))
    first, second = model.encode(inputs, training=True), model.encode(inputs, training=True)
    assert np.abs(first - second).max() > 1e-3
    # Without dropout, training and inference agree (no layer behaves differently).
    plain = _model()
    np.testing.assert_allclose(plain.encode(inputs, training=True), plain.encode(inputs), atol=1e-6)


def test_no_dropout_adds_no_layer():
    assert _model().embedding_dropout is None
    assert all(block.branch_dropout is None for block in _model().residual_blocks)
    assert len(_model(dropout=0.2).weights) == len(_model().weights)  # dropout has no weights
