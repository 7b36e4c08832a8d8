"""SkipRec-Gumbel: the straight-through Gumbel-softmax estimator (Eq. 6-7)."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from skiprec_testing import N, make_batch, make_skiprec

from skiprec_tf.models import SkipRecGumbel
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
    with tf.GradientTape() as tape:
        logits = model.policy(inputs)
        actions = gumbel_straight_through(logits, model.temperature, tf.constant([7, 8]))[..., 1]
        loss = model.next_item_loss(model.encode(inputs, actions=actions), inputs, targets)
    gradients = tape.gradient(loss, model.policy.trainable_weights)
    policy_head = model.policy.logits.kernel
    head_gradient = gradients[
        [w.path for w in model.policy.trainable_weights].index(policy_head.path)
    ]
    assert float(tf.reduce_max(tf.abs(head_gradient))) > 0.0
