"""The reward of a skipping policy (Eq. 8) and the self-critical REINFORCE loss (Eq. 9)."""

import tensorflow as tf

from skiprec_tf.metrics import target_ranks


def correct_in_top_k(scores, targets, k: int = 5):
    """Whether the true next item is among the top k of all items (padding, column 0, excluded).

    Args:
      scores: `[batch, num_items + 1]` next-item scores.
      targets: `[batch]` true next items (1..V).
    """
    return target_ranks(scores[:, 1:], targets - 1) <= k


def block_reward(actions, correct, gamma: float = 1.0):
    """Eq. 8: R(A) = 1 - (sum_l A_l / N)^2 if the recommendation is correct, else -gamma.

    Args:
      actions: `[batch, N]` 0/1 decisions (1 = block retained).
      correct: `[batch]` bool.
    """
    usage = tf.reduce_mean(tf.cast(actions, tf.float32), axis=1)
    return tf.where(correct, 1.0 - tf.square(usage), -gamma * tf.ones_like(usage))


def self_critical_advantage(sampled_reward, greedy_reward):
    """R(A^s) - R(A^): the greedy (test-time) policy is the baseline (SCST, Rennie et al. 2017)."""
    return tf.stop_gradient(sampled_reward - greedy_reward)


def reinforce_loss(log_probs, advantage):
    """Eq. 9, averaged over the batch: -sum_l log p(A^s_l) * advantage.

    Args:
      log_probs: `[batch, N]` log-probabilities of the sampled actions.
      advantage: `[batch]`, carries no gradient.
    """
    return -tf.reduce_mean(tf.reduce_sum(log_probs, axis=1) * advantage)
