"""The reward of a skipping policy (Eq. 8) and the self-critical REINFORCE loss (Eq. 9), with
denser options (beyond the paper) for data sets where a top-5 hit is rare."""

import tensorflow as tf

from skiprec_tf.evaluation.metrics import target_ranks
from skiprec_tf.training.distribute import global_mean


def correct_in_top_k(scores, targets, k: int = 5):
    """Whether the true next item is among the top k of all items (padding, column 0, excluded).

    Args:
      scores: `[batch, num_items + 1]` next-item scores.
      targets: `[batch]` true next items (1..V).
    """
    return target_ranks(scores[:, 1:], targets - 1) <= k


def reciprocal_rank(scores, targets):
    """1 / the rank of the true next item among all items (padding, column 0, excluded)."""
    return 1.0 / tf.cast(target_ranks(scores[:, 1:], targets - 1), tf.float32)


def block_reward(actions, correct, gamma: float = 1.0):
    """Eq. 8: R(A) = 1 - (sum_l A_l / N)^2 if the recommendation is correct, else -gamma.

    With a graded `correct` c in [0, 1] (the reciprocal rank), the same reward interpolated:
    R(A) = c (1 - (sum_l A_l / N)^2) - gamma (1 - c), Eq. 8 itself where c is 0 or 1.

    Args:
      actions: `[batch, N]` 0/1 decisions (1 = block retained).
      correct: `[batch]` bool, or float in [0, 1].
    """
    usage = tf.reduce_mean(tf.cast(actions, tf.float32), axis=1)
    if correct.dtype == tf.bool:
        return tf.where(correct, 1.0 - tf.square(usage), -gamma * tf.ones_like(usage))
    return correct * (1.0 - tf.square(usage)) - gamma * (1.0 - correct)


def likelihood_reward(actions, scores, targets):
    """R(A) = log p(true next item | A) - (sum_l A_l / N)^2: Eq. 8 with the target's
    log-likelihood for the correctness term, dense wherever a hit is rare.

    Args:
      actions: `[batch, N]` 0/1 decisions.
      scores: `[batch, V + 1]` next-item logits (column 0, padding, excluded).
      targets: `[batch]` true next items (1..V).
    """
    usage = tf.reduce_mean(tf.cast(actions, tf.float32), axis=1)
    log_probs = tf.nn.log_softmax(scores[:, 1:])
    return tf.gather(log_probs, targets - 1, batch_dims=1) - tf.square(usage)


def self_critical_advantage(sampled_reward, greedy_reward, normalize: bool = False):
    """R(A^s) - R(A^): the greedy (test-time) policy is the baseline (SCST, Rennie et al. 2017).

    With `normalize` (beyond the paper), divided by its standard deviation over the batch, so
    that the policy's step does not shrink with the reward's scale.
    """
    advantage = sampled_reward - greedy_reward
    if normalize:
        advantage /= tf.math.reduce_std(advantage) + 1e-6
    return tf.stop_gradient(advantage)


def policy_entropy(logits, controlled):
    """`[batch]` the mean entropy (nats) of the policy's decisions over the controlled blocks.

    Args:
      logits: `[batch, N, 2]` skip/retain logits.
      controlled: `[N]` 1 where the policy decides the block.
    """
    log_probs = tf.nn.log_softmax(logits)
    entropy = -tf.reduce_sum(tf.exp(log_probs) * log_probs, axis=-1)
    return tf.reduce_sum(entropy * controlled, axis=1) / tf.maximum(tf.reduce_sum(controlled), 1.0)


def reinforce_loss(log_probs, advantage):
    """Eq. 9, averaged over the (global) batch: -sum_l log p(A^s_l) * advantage.

    Args:
      log_probs: `[batch, N]` log-probabilities of the sampled actions.
      advantage: `[batch]`, carries no gradient.
    """
    return -global_mean(tf.reduce_sum(log_probs, axis=1) * advantage)
