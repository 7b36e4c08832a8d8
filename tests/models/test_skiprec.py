"""SkipRec: Eq. 5, the Gumbel straight-through estimator, and the self-critical RL losses."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from skiprec_tf.models import (
    CNNPolicy,
    GRUPolicy,
    NextItNetPlus,
    RandomPolicy,
    SkipRec,
    SkipRecGumbel,
    SkipRecRL,
)
from skiprec_tf.models.skiprec_gumbel import gumbel_straight_through
from skiprec_tf.rewards import reinforce_loss

V, N, D = 30, 4, 8


def _model(cls=SkipRec, policy_cls=CNNPolicy, **kwargs):
    model = cls(
        V, policy_cls(V, N, D), embedding_dim=D, dilations=(1, 4) * (N // 2), seed=1, **kwargs
    )
    model(tf.zeros([1, 7], tf.int32))
    for block in model.residual_blocks:  # trained blocks, not the identity of a fresh ReZero block
        block.rezero_lambda.assign(0.5)
    return model


def _batch(rows=6, length=8, seed=0):
    sequences = np.random.default_rng(seed).integers(1, V + 1, size=(rows, length))
    return tf.constant(sequences[:, :-1], tf.int32), tf.constant(sequences[:, 1:], tf.int32)


def test_eq5_skipping_every_block_returns_the_embeddings():
    model, (inputs, _) = _model(), _batch()
    hidden = model.encode(inputs, actions=tf.zeros([6, N]))
    np.testing.assert_array_equal(hidden, model.item_embedding(inputs))


def test_eq5_keeping_every_block_is_nextitnet_plus():
    model, (inputs, _) = _model(), _batch()
    np.testing.assert_allclose(
        model.encode(inputs, actions=tf.ones([6, N])),
        NextItNetPlus.encode(model, inputs),
        atol=1e-6,
    )


def test_eq5_mixed_actions_per_user():
    model, (inputs, _) = _model(), _batch()
    actions = tf.constant([[1, 0, 1, 0]] * 3 + [[0, 0, 0, 1]] * 3, tf.float32)
    expected = model.item_embedding(inputs).numpy()
    for user in range(6):
        for l, block in enumerate(model.residual_blocks):
            if actions[user, l]:
                expected[user] = block(expected[user][None])[0]
    np.testing.assert_allclose(model.encode(inputs, actions=actions), expected, atol=1e-5)


@pytest.mark.parametrize("policy_cls", [CNNPolicy, GRUPolicy, RandomPolicy])
def test_policies_give_n_by_2_logits(policy_cls):
    policy = policy_cls(V, N, D)
    assert policy(_batch()[0]).shape == (6, N, 2)
    assert (len(policy.trainable_weights) == 0) == (policy_cls is RandomPolicy)


def test_greedy_inference_is_deterministic_and_binary():
    model, (inputs, _) = _model(), _batch()
    first, second = model.inference_actions(inputs), model.inference_actions(inputs)
    np.testing.assert_array_equal(first, second)
    assert set(np.unique(first)) <= {0.0, 1.0}


def test_random_policy_retains_about_half_of_the_blocks():
    model = _model(policy_cls=RandomPolicy)
    inputs = _batch(rows=500)[0]
    usage = float(tf.reduce_mean(model.inference_actions(inputs)))
    assert 0.45 < usage < 0.55


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
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 0.01 < 0.3 < gaps[0]


def test_gumbel_policy_learns_from_the_cross_entropy():
    model, (inputs, targets) = _model(SkipRecGumbel, temperature=10.0), _batch()
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


def test_rl_advantage_is_zero_when_sampled_equals_greedy():
    model, (inputs, targets) = _model(SkipRecRL), _batch()
    # A certain policy: every block's retain logit far above its skip logit.
    model.policy.logits.kernel.assign(tf.zeros_like(model.policy.logits.kernel))
    model.policy.logits.bias.assign(tf.tile([-30.0, 30.0], [N]))
    with tf.GradientTape() as tape:
        _, rl_loss, advantage, sampled = model.losses(inputs, targets)
    np.testing.assert_array_equal(sampled, np.ones([6, N]))
    np.testing.assert_array_equal(advantage, np.zeros(6))
    assert float(rl_loss) == 0.0
    gradient = tape.gradient(rl_loss, model.policy.logits.bias)
    assert gradient is None or float(tf.reduce_max(tf.abs(gradient))) == 0.0


def test_rl_gradient_raises_the_log_prob_of_an_action_with_positive_advantage():
    logits = tf.Variable(tf.zeros([1, N, 2]))
    action = tf.constant([[1, 0, 0, 1]])
    distribution = tfp.distributions.Categorical(logits=logits)
    before = float(tf.reduce_sum(distribution.log_prob(action)))
    with tf.GradientTape() as tape:
        loss = reinforce_loss(
            tfp.distributions.Categorical(logits=logits).log_prob(action), tf.constant([0.5])
        )
    logits.assign_sub(0.1 * tape.gradient(loss, logits))
    after = float(tf.reduce_sum(tfp.distributions.Categorical(logits=logits).log_prob(action)))
    assert after > before
    with tf.GradientTape() as tape:  # and lowers it with a negative advantage
        loss = reinforce_loss(
            tfp.distributions.Categorical(logits=logits).log_prob(action), tf.constant([-0.5])
        )
    logits.assign_sub(0.1 * tape.gradient(loss, logits))
    assert (
        float(tf.reduce_sum(tfp.distributions.Categorical(logits=logits).log_prob(action))) < after
    )


@pytest.mark.parametrize(
    "cls, policy_cls", [(SkipRec, RandomPolicy), (SkipRecGumbel, CNNPolicy), (SkipRecRL, GRUPolicy)]
)
def test_train_steps_run_and_report_block_usage(cls, policy_cls):
    model = _model(cls, policy_cls)
    model.compile(optimizer="adam")
    inputs, targets = _batch(rows=16)
    history = model.fit(inputs, targets, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert 0.0 <= history.history["block_usage"][0] <= 1.0
    results = model.evaluate(inputs, targets, return_dict=True, verbose=0)
    assert {"mrr_at_5", "hr_at_20", "block_usage"} <= set(results)


def test_uncontrolled_blocks_are_always_retained():
    model, (inputs, _) = _model(), _batch()
    model.controlled.assign([0.0, 0.0, 1.0, 1.0])
    model.policy.logits.bias.assign(tf.tile([30.0, -30.0], [N]))  # the policy skips everything
    np.testing.assert_array_equal(model.inference_actions(inputs), [[1, 1, 0, 0]] * 6)


def test_target_usage_penalty():
    assert float(tf.reduce_max(_model().usage_penalty(tf.constant([0.2, 0.9])))) == 0.0  # off
    model = _model(SkipRecRL, target_usage=0.5, usage_weight=2.0)
    np.testing.assert_allclose(model.usage_penalty(tf.constant([0.5, 1.0, 0.0])), [0.0, 0.5, 0.5])
    with pytest.raises(ValueError, match="target_usage"):
        _model(target_usage=1.5)
