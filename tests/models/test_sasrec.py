"""SASRec+: shapes, identity at initialisation, positions counted from the right, training."""

import numpy as np
import pytest
import tensorflow as tf

from skiprec_tf.config import DataConfig, ModelConfig, PolicyConfig
from skiprec_tf.data.pipeline import evaluation_batches
from skiprec_tf.data.sources import load_data
from skiprec_tf.models import SASRecPlus, build_recommender

T = 9


def _model(**kwargs):
    model = SASRecPlus(num_items=50, input_length=T, embedding_dim=8, num_blocks=4, **kwargs)
    model(tf.zeros([1, T], tf.int32))
    return model


def test_shapes():
    model = _model()
    inputs = tf.constant(np.random.default_rng(0).integers(0, 51, size=(3, T)), tf.int32)
    assert model.encode(inputs).shape == (3, T, 8)
    assert model(inputs).shape == (3, 51)
    assert model.num_blocks == 4


def test_fresh_model_encodes_to_its_normalised_embeddings():
    model = _model()
    inputs = tf.constant([[0, 0, 3, 7, 9, 1, 2, 3, 4]])
    expected = model.final_norm(model.embed(inputs))
    np.testing.assert_allclose(model.encode(inputs), expected, atol=1e-6)


def test_the_last_item_has_the_same_position_whatever_the_length():
    model = _model()
    for block in model.residual_blocks:
        block.rezero_lambda.assign(0.5)
    history = [5, 9, 2, 7]
    short = tf.constant([history])
    padded = tf.constant([[0] * (T - len(history)) + history])
    np.testing.assert_allclose(model(short), model(padded), atol=1e-5)


def test_dropout_acts_in_training_only():
    model = _model(dropout=0.3)
    for block in model.residual_blocks:
        block.rezero_lambda.assign(0.5)
    inputs = tf.constant(np.random.default_rng(1).integers(1, 51, size=(4, T)), tf.int32)
    np.testing.assert_array_equal(model(inputs), model(inputs, training=False))
    first, second = model.encode(inputs, training=True), model.encode(inputs, training=True)
    assert np.abs(first - second).max() > 1e-3


@pytest.mark.slow
def test_a_few_steps_reduce_the_loss_on_the_synthetic_default():
    data = load_data(DataConfig(synthetic_users=300, synthetic_items=40, seq_len=10))
    for model_config, policy in [
        (ModelConfig(model="sasrec_plus", embedding_dim=16, num_blocks=4), "cnn"),
        (
            ModelConfig(model="skiprec_rl", backbone="sasrec_plus", embedding_dim=16, num_blocks=4),
            "attention",
        ),
        (
            ModelConfig(
                model="skiprec_gumbel", backbone="sasrec_plus", embedding_dim=16, num_blocks=4
            ),
            "attention",
        ),
    ]:
        model = build_recommender(model_config, PolicyConfig(policy=policy), data.num_items, 9)
        model(tf.zeros([1, 9], tf.int32))  # built, as run_dir.build_model does
        model.compile(optimizer="adam")
        history = model.fit(evaluation_batches(data.train, 64), epochs=4, verbose=0, shuffle=False)
        losses = history.history["loss"]
        assert losses[-1] < losses[0], (model_config.model, losses)
