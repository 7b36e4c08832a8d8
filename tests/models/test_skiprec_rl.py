"""SkipRec-RL: the self-critical REINFORCE loss (Eq. 9) beside the cross-entropy (Eq. 10)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from skiprec_testing import N, make_batch, make_skiprec

from skiprec_tf.models import RandomPolicy, SkipRecRL
from skiprec_tf.models.rewards import policy_entropy, reinforce_loss


def test_rl_advantage_is_zero_when_sampled_equals_greedy():
    model, (inputs, targets) = make_skiprec(SkipRecRL), make_batch()
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


def test_random_policy_trains_on_the_cross_entropy_under_its_sampled_actions():
    # The training of the random policy: one seed per step for the sample, L_CE alone.
    model, (inputs, targets) = make_skiprec(SkipRecRL, RandomPolicy), make_batch()
    model.compile(optimizer="adam")
    seed_state = model.seed_generator.state.numpy()
    sampled = model.sampled_actions(model.policy(inputs, training=True), inputs)
    hidden = model.encode(inputs, training=True, actions=sampled)
    expected = float(model.next_item_loss(hidden, inputs, targets))
    after_one_seed = model.seed_generator.state.numpy()
    model.seed_generator.state.assign(seed_state)
    logs = model.train_step((inputs, targets))
    assert float(logs["loss"]) == expected
    assert float(logs["block_usage"]) == float(tf.reduce_mean(sampled))
    np.testing.assert_array_equal(model.seed_generator.state, after_one_seed)


def test_training_reports_the_collapse_diagnostics():
    model, (inputs, targets) = make_skiprec(SkipRecRL), make_batch()
    model.compile(optimizer="adam")
    logs = model.train_step((inputs, targets))
    assert {"advantage_nonzero", "policy_entropy", "blocks_std"} <= set(logs)
    assert 0.0 < float(logs["policy_entropy"]) <= np.log(2)
    # A certain policy: every user runs every block, the same sample as the greedy one.
    model = make_skiprec(SkipRecRL)
    model.policy.logits.kernel.assign(tf.zeros_like(model.policy.logits.kernel))
    model.policy.logits.bias.assign(tf.tile([-30.0, 30.0], [N]))
    model.compile(optimizer="adam")
    logs = model.train_step((inputs, targets))
    assert float(logs["advantage_nonzero"]) == 0.0 and float(logs["blocks_std"]) == 0.0
    assert float(logs["policy_entropy"]) < 1e-6


def test_the_log_likelihood_reward_gives_a_signal_wherever_the_policies_differ():
    model, (inputs, targets) = make_skiprec(SkipRecRL, reward="log_likelihood"), make_batch(32)
    greedy = model.greedy_actions(model.policy(inputs, training=True), inputs)
    _, _, advantage, sampled = model.losses(inputs, targets)
    differs = np.any(sampled.numpy() != greedy.numpy(), axis=1)
    assert differs.any()
    np.testing.assert_array_equal(advantage.numpy() != 0, differs)
    # Where they agree, nothing: a certain policy samples its greedy actions for every user.
    model.policy.logits.kernel.assign(tf.zeros_like(model.policy.logits.kernel))
    model.policy.logits.bias.assign(tf.tile([-30.0, 30.0], [N]))
    _, _, advantage, _ = model.losses(inputs, targets)
    np.testing.assert_array_equal(advantage, np.zeros(32))


def losses_at(model, name, weights, inputs, targets):
    """`model.losses` with its attribute `name` set to each of `weights` in turn, each from the
    same sampled actions."""
    seed_state = model.seed_generator.state.numpy()
    losses = []
    for weight in weights:
        setattr(model, name, weight)
        model.seed_generator.state.assign(seed_state)
        losses.append(model.losses(inputs, targets))
    return losses


def test_the_entropy_bonus_lowers_the_rl_loss_by_its_weight_times_the_entropy():
    model, (inputs, targets) = make_skiprec(SkipRecRL), make_batch()
    losses = losses_at(model, "entropy_weight", (0.0, 0.3), inputs, targets)
    rl_losses = [float(rl_loss) for _, rl_loss, _, _ in losses]
    entropy = float(tf.reduce_mean(policy_entropy(model.policy(inputs), model.controlled)))
    assert rl_losses[1] == pytest.approx(rl_losses[0] - 0.3 * entropy, abs=1e-5)


def test_several_policy_samples_per_user():
    model, (inputs, targets) = make_skiprec(SkipRecRL, policy_samples=3), make_batch()
    _, _, advantage, sampled = model.losses(inputs, targets)
    assert advantage.shape == (18,) and sampled.shape == (6, N)
    model.compile(optimizer="adam")
    assert np.isfinite(float(model.train_step((inputs, targets))["loss"]))


def test_the_greedy_cross_entropy_adds_its_weight_times_the_greedy_policys_loss():
    model, (inputs, targets) = make_skiprec(SkipRecRL), make_batch()
    greedy = model.greedy_actions(model.policy(inputs, training=True), inputs)
    greedy_ce = float(
        model.next_item_loss(model.encode(inputs, training=True, actions=greedy), inputs, targets)
    )
    losses = losses_at(model, "greedy_ce_weight", (0.0, 0.5), inputs, targets)
    ce_losses = [float(ce_loss) for ce_loss, _, _, _ in losses]
    assert ce_losses[1] == pytest.approx(ce_losses[0] + 0.5 * greedy_ce, abs=1e-5)


def test_only_the_greedy_cross_entropy_trains_the_blocks_that_only_the_greedy_policy_retains():
    # Block 0 retained by the greedy policy of every user, never sampled (the sampled actions
    # are set): its weights get a gradient from the greedy cross-entropy alone, not from the
    # self-critical baseline, which stays without gradient.
    model, (inputs, targets) = make_skiprec(SkipRecRL), make_batch()
    model.policy.logits.kernel.assign(tf.zeros_like(model.policy.logits.kernel))
    model.policy.logits.bias.assign(tf.tile([-1.0, 1.0], [N]))  # greedy: retain every block
    never_sampled = tf.constant([[0.0] + [1.0] * (N - 1)] * 6)
    model.sampled_actions = lambda logits, inputs: never_sampled
    block = model.residual_blocks[0].trainable_variables
    for weight in (0.0, 0.5):
        model.greedy_ce_weight = weight
        with tf.GradientTape() as tape:
            ce_loss, rl_loss, _, _ = model.losses(inputs, targets)
            loss = ce_loss + rl_loss
        gradients = [g for g in tape.gradient(loss, block) if g is not None]
        trained = any(float(tf.reduce_max(tf.abs(g))) > 0 for g in gradients)
        assert trained == (weight > 0)


def test_a_policy_optimizer_steps_the_policy_and_the_model_optimizer_the_rest():
    model, (inputs, targets) = make_skiprec(SkipRecRL), make_batch()
    model.compile(optimizer=keras.optimizers.Adam(0.1))
    model.policy_optimizer = keras.optimizers.Adam(0.0)  # a frozen policy, a moving backbone
    model.train_step((inputs, targets))
    policy = [v.numpy() for v in model.policy.trainable_variables]
    backbone = [v.numpy() for v in model.residual_blocks[0].trainable_variables]
    model.train_step((inputs, targets))
    for before, variable in zip(policy, model.policy.trainable_variables):
        np.testing.assert_array_equal(variable.numpy(), before)
    moved = [
        not np.array_equal(v.numpy(), before)
        for before, v in zip(backbone, model.residual_blocks[0].trainable_variables)
    ]
    assert any(moved)
    assert int(model.policy_optimizer.iterations) == 2 and int(model.optimizer.iterations) == 2


def test_under_adam_beta_does_not_change_the_policys_step():
    # The policy's weights get gradients from beta * L_RL alone, and Adam's step is invariant to
    # the gradient's scale: a policy learning rate, not beta, sets how fast the policy learns.
    steps = []
    for beta in (1.0, 10.0):
        keras.utils.set_random_seed(0)  # the same initial weights for both
        model, (inputs, targets) = make_skiprec(SkipRecRL, beta=beta), make_batch()
        # Adam's epsilon (1e-7 by default) is all that tells the two apart, beside the tiny
        # gradients of some weights; a negligible one shows the invariance exactly.
        model.compile(optimizer=keras.optimizers.Adam(0.01, epsilon=1e-12))
        before = [v.numpy() for v in model.policy.trainable_variables]
        model.train_step((inputs, targets))
        steps.append([v.numpy() - b for v, b in zip(model.policy.trainable_variables, before)])
    assert max(np.abs(s).max() for s in steps[0]) > 1e-4
    for one, ten in zip(*steps):
        np.testing.assert_allclose(ten, one, rtol=1e-3, atol=1e-7)
