"""Tied input and output embeddings: the scores are the item embeddings' dot products plus a
bias, the model has V x d fewer weights, and the export serves the same scores."""

import numpy as np
import tensorflow as tf

from skiprec_tf.models import SASRecPlus
from skiprec_tf.serving.export import RecommenderServing

V, T, D = 30, 6, 8


def _model(tied: bool):
    model = SASRecPlus(V, T, embedding_dim=D, num_blocks=2, tied_embeddings=tied)
    model(tf.zeros([1, T], tf.int32))
    return model


def test_scores_are_the_item_embeddings_dot_products_plus_a_bias():
    model = _model(tied=True)
    model.output_layer.bias.assign(np.arange(V + 1, dtype="float32"))
    hidden = tf.random.normal([3, D], seed=0)
    expected = hidden.numpy() @ model.item_embedding.embeddings.numpy().T + np.arange(V + 1)
    np.testing.assert_allclose(model.output_layer(hidden), expected, rtol=1e-5, atol=1e-5)


def test_tied_model_has_v_by_d_fewer_weights():
    count = lambda m: sum(int(np.prod(w.shape)) for w in m.trainable_weights)
    assert count(_model(tied=False)) - count(_model(tied=True)) == D * (V + 1)


def test_training_moves_the_shared_embeddings_and_serving_agrees():
    model = _model(tied=True)
    model.compile(optimizer="adam")
    x = tf.constant(np.random.default_rng(0).integers(1, V + 1, size=(32, T + 1)), tf.int32)
    before = model.item_embedding.embeddings.numpy().copy()
    model.fit(x[:, :-1], x[:, 1:], epochs=2, batch_size=16, verbose=0)
    assert np.abs(model.item_embedding.embeddings.numpy() - before).max() > 0
    serving = RecommenderServing(model, np.arange(V + 1), T)
    scores, _ = serving.scores(x[:4, :-1])
    np.testing.assert_allclose(scores, model(x[:4, :-1])[:, 1:], atol=1e-5)


def test_scores_of_every_position_and_their_gradients_are_the_formulas():
    model = _model(tied=True)
    hidden = tf.random.normal([4, T, D], seed=1)
    embeddings, bias = model.item_embedding.embeddings, model.output_layer.bias

    def scores_and_gradients(score):
        with tf.GradientTape() as tape:
            tape.watch(hidden)
            loss = tf.reduce_sum(tf.sin(score()))
        return tape.gradient(loss, [hidden, embeddings, bias])

    got = scores_and_gradients(lambda: model.output_layer(hidden))
    want = scores_and_gradients(lambda: tf.einsum("btd,vd->btv", hidden, embeddings) + bias)
    assert model.output_layer(hidden).shape == (4, T, V + 1)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
