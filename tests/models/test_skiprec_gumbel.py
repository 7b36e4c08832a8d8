"""SkipRec-Gumbel: the straight-through Gumbel-softmax estimator (Eq. 6-7)."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from skiprec_testing import N, make_batch, make_skiprec

from skiprec_tf.models import SkipRecGumbel, skiprec_gumbel
from skiprec_tf.models.skiprec_gumbel import gumbel_straight_through


def test_gumbel_forward_is_exactly_one_hot():
    logits = tf.random.normal([64, N, 2], seed=3)
    one_hot = gumbel_straight_through(logits, 10.0, seed=tf.constant([1, 2]))
    assert set(np.unique(one_hot.numpy())) == {0.0, 1.0}
    np.testing.assert_array_equal(tf.reduce_sum(one_hot, -1), np.ones([64, N]))


def test_gumbel_relaxation_approaches_the_hard_sample_as_tau_falls():
    logits = tf.random.normal([2000, 2], seed=4)

    def mean_gap(tau):
        relaxed = tfp.distributions.RelaxedOneHotCategorical(tau, logits=logits).sample(
            seed=tf.constant([5, 6])
        )
        hard = tf.one_hot(tf.argmax(relaxed, -1), 2)
        return float(tf.reduce_mean(tf.abs(relaxed - hard)))

    gaps = [mean_gap(tau) for tau in (10.0, 1.0, 0.1, 0.01)]
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 0.01 < 0.3 < gaps[0]  # noqa: PLR0133


def test_gumbel_policy_learns_from_the_cross_entropy():
    model, (inputs, targets) = make_skiprec(SkipRecGumbel, temperature=10.0), make_batch()
    policy_head = model.policy.logits.kernel
    with tf.GradientTape() as tape:
        loss = model.compute_loss(inputs, targets)
    head_gradient = tape.gradient(loss, policy_head)
    assert float(tf.reduce_max(tf.abs(head_gradient))) > 0.0
    model.compile(optimizer="adam")
    before = policy_head.numpy()
    model.train_step((inputs, targets))
    assert np.abs(policy_head.numpy() - before).max() > 0.0


def test_hard_actions_forward_and_the_policy_gradient_back_come_from_the_straight_through(
    monkeypatch,
):
    model, (inputs, targets) = make_skiprec(SkipRecGumbel), make_batch()
    seed_state = model.seed_generator.state.numpy()
    one_hots = []

    def spied(logits, temperature, seed, uniform=None):
        one_hots.append(gumbel_straight_through(logits, temperature, seed, uniform))
        return one_hots[-1]

    def without_straight_through(logits, temperature, seed, uniform=None):
        return tf.stop_gradient(gumbel_straight_through(logits, temperature, seed, uniform))

    def loss_and_head_gradient():
        model.seed_generator.state.assign(seed_state)
        with tf.GradientTape() as tape:
            loss = model.compute_loss(inputs, targets)
        return float(loss), tape.gradient(loss, model.policy.logits.kernel)

    monkeypatch.setattr(skiprec_gumbel, "gumbel_straight_through", spied)
    loss, gradient = loss_and_head_gradient()
    assert set(np.unique(one_hots[0].numpy())) == {0.0, 1.0}
    assert float(tf.reduce_max(tf.abs(gradient))) > 0.0
    # The same forward pass without the relaxation's gradient: the policy learns nothing.
    monkeypatch.setattr(skiprec_gumbel, "gumbel_straight_through", without_straight_through)
    broken_loss, broken_gradient = loss_and_head_gradient()
    assert broken_loss == loss
    assert broken_gradient is None or float(tf.reduce_max(tf.abs(broken_gradient))) == 0.0


def test_gumbel_from_given_noise_is_the_relaxed_sample_of_that_noise():
    """softmax((log pi + g) / tau) with g = -log(-log u): by hand for one decision."""
    logits = tf.constant([[[0.0, np.log(3.0)]]])  # pi = (1/4, 3/4)
    uniform = tf.constant([[[0.5, 0.25]]])
    gumbel = -np.log(-np.log([0.5, 0.25]))
    expected = np.exp((np.log([0.25, 0.75]) + gumbel) / 2.0)
    expected /= expected.sum()
    one_hot = gumbel_straight_through(logits, 2.0, None, uniform)
    np.testing.assert_array_equal(one_hot.numpy()[0, 0], np.eye(2)[np.argmax(expected)])
    with tf.GradientTape() as tape:
        tape.watch(logits)
        relaxed = gumbel_straight_through(logits, 2.0, None, uniform)[..., 1]
    # The straight-through gradient is the relaxation's: d alpha_1 / d logit_1.
    gradient = tape.gradient(relaxed, logits).numpy()[0, 0, 1]
    assert gradient == pytest.approx(expected[1] * (1 - expected[1]) / 2.0, rel=1e-5)
