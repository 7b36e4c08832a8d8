"""The reward of Eq. 8 and the self-critical advantage on hand-computed cases."""

import numpy as np
import tensorflow as tf

from skiprec_tf.models.rewards import (
    block_reward,
    correct_in_top_k,
    likelihood_reward,
    policy_entropy,
    reciprocal_rank,
    self_critical_advantage,
)


def test_reward_of_eq8():
    actions = tf.constant([[1, 1, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0], [1, 0, 0, 0]], tf.float32)
    correct = tf.constant([True, True, True, False])
    # 1 - (2/4)^2, 1 - 1, 1 - 0, -gamma
    np.testing.assert_allclose(block_reward(actions, correct, gamma=1.0), [0.75, 0.0, 1.0, -1.0])
    np.testing.assert_allclose(block_reward(actions, correct, gamma=0.3)[3], -0.3)


def test_fewer_blocks_earn_more_when_correct():
    correct = tf.constant([True, True])
    rewards = block_reward(tf.constant([[1, 0, 0, 0], [1, 1, 1, 0]], tf.float32), correct)
    assert rewards[0] > rewards[1]


def test_correct_means_in_the_top_5_of_all_items():
    # Column 0 is padding and never counts; the target (item 3) ranks 3rd, then 6th.
    scores = tf.constant([[9.0, 5, 4, 3, 1, 0, 0, 0], [9.0, 8, 7, 2, 6, 5, 4, 0]])
    np.testing.assert_array_equal(correct_in_top_k(scores, tf.constant([3, 3])), [True, False])
    np.testing.assert_array_equal(correct_in_top_k(scores, tf.constant([3, 3]), k=6), [True, True])


def test_self_critical_advantage():
    np.testing.assert_allclose(
        self_critical_advantage(tf.constant([0.75, -1.0]), tf.constant([0.75, 0.5])), [0.0, -1.5]
    )


def test_reciprocal_rank_and_the_graded_reward():
    # The target (item 3) ranks 3rd, then 6th, among items 1..7 (column 0 is padding).
    scores = tf.constant([[9.0, 5, 4, 3, 1, 0, 0, 0], [9.0, 8, 7, 2, 6, 5, 4, 0]])
    correct = reciprocal_rank(scores, tf.constant([3, 3]))
    np.testing.assert_allclose(correct, [1 / 3, 1 / 6])
    actions = tf.constant([[1, 1, 0, 0], [1, 1, 1, 1]], tf.float32)
    # c (1 - u^2) - gamma (1 - c): 1/3 * 0.75 - 2/3 * 0.5 = -1/12; 1/6 * 0 - 5/6 * 0.5 = -5/12
    np.testing.assert_allclose(
        block_reward(actions, correct, gamma=0.5), [-1 / 12, -5 / 12], rtol=1e-6
    )
    # Graded values of exactly 0 and 1 give Eq. 8 itself.
    np.testing.assert_allclose(
        block_reward(actions, tf.constant([1.0, 0.0]), gamma=0.5),
        block_reward(actions, tf.constant([True, False]), gamma=0.5),
    )


def test_likelihood_reward():
    scores = tf.math.log(tf.constant([[5.0, 0.5, 0.25, 0.25], [1.0, 0.1, 0.1, 0.8]]))
    actions = tf.constant([[1, 0], [1, 1]], tf.float32)
    # log p of items 1..3 (column 0 excluded) minus usage^2: log 0.5 - 0.25, log 0.8 - 1
    np.testing.assert_allclose(
        likelihood_reward(actions, scores, tf.constant([1, 3])),
        [np.log(0.5) - 0.25, np.log(0.8) - 1.0],
        rtol=1e-6,
    )


def test_normalised_advantage_divides_by_the_batch_std():
    sampled, greedy = tf.constant([1.0, -1.0, 0.5, -1.0]), tf.constant([-1.0, -1.0, 0.5, 1.0])
    # differences 2, 0, 0, -2: population std sqrt(2)
    np.testing.assert_allclose(
        self_critical_advantage(sampled, greedy, normalize=True),
        [2 / np.sqrt(2), 0, 0, -2 / np.sqrt(2)],
        rtol=1e-5,
    )
    np.testing.assert_array_equal(
        self_critical_advantage(greedy, greedy, normalize=True), [0, 0, 0, 0]
    )


def test_policy_entropy_over_the_controlled_blocks():
    # Block 0 a fair coin (entropy log 2), block 1 certain (0), block 2 not controlled.
    logits = tf.constant([[[0.0, 0.0], [-50.0, 50.0], [0.0, 0.0]]])
    np.testing.assert_allclose(
        policy_entropy(logits, tf.constant([1.0, 1.0, 0.0])), [np.log(2) / 2], rtol=1e-6
    )
