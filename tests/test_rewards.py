"""The reward of Eq. 8 and the self-critical advantage on hand-computed cases."""

import numpy as np
import tensorflow as tf

from skiprec_tf.rewards import block_reward, correct_in_top_k, self_critical_advantage


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
    # Column 0 is padding and never counts; the target (item 3) ranks 2nd, then 6th.
    scores = tf.constant([[9.0, 5, 4, 3, 1, 0, 0, 0], [9.0, 8, 7, 2, 6, 5, 4, 0]])
    np.testing.assert_array_equal(correct_in_top_k(scores, tf.constant([3, 3])), [True, False])
    np.testing.assert_array_equal(correct_in_top_k(scores, tf.constant([3, 3]), k=6), [True, True])


def test_self_critical_advantage():
    np.testing.assert_allclose(
        self_critical_advantage(tf.constant([0.75, -1.0]), tf.constant([0.75, 0.5])), [0.0, -1.5]
    )
