"""SkipRec-RL: REINFORCE with a self-critical baseline on the reward of Eq. 8 (Eq. 9-10)."""

import tensorflow as tf
import tensorflow_probability as tfp

from skiprec_tf.models.policy import RETAIN, SKIP
from skiprec_tf.models.skiprec import SkipRec
from skiprec_tf.rewards import (
    block_reward,
    correct_in_top_k,
    reinforce_loss,
    self_critical_advantage,
)

tfd = tfp.distributions


class SkipRecRL(SkipRec):
    """L = L_CE + beta * L_RL (Eq. 8-10); the backbone trains under the sampled policy A^s, the
    policy by SCST with the greedy policy A^ as baseline. A recommendation is correct when the
    true last item is in the top `reward_top_k` (5, as in the authors' code). Actions are
    `[batch, N]`, rewards and advantages `[batch]`.

    With a policy that has no trainable weights (the random one) the loss is L_CE alone.

    Args:
      gamma: the penalty of a wrong recommendation in Eq. 8.
      beta: the weight of L_RL in Eq. 10.
      reward_top_k: the cut-off of a correct recommendation.
      **kwargs: see `SkipRec`.
    """

    def __init__(self, num_items, policy, gamma=1.0, beta=1.0, reward_top_k=5, **kwargs):
        super().__init__(num_items, policy, **kwargs)
        self.gamma = gamma
        self.beta = beta
        self.reward_top_k = reward_top_k

    def reward(self, hidden, actions, last_targets):
        """Eq. 8 (minus the optional usage penalty) of `actions` given their hidden states."""
        correct = correct_in_top_k(
            self.output_layer(hidden[:, -1]), last_targets, self.reward_top_k
        )
        usage = tf.reduce_mean(actions, axis=1)
        return block_reward(actions, correct, self.gamma) - self.usage_penalty(usage)

    def losses(self, inputs, targets):
        """L_CE under the sampled policy, L_RL (Eq. 9), the advantage and the sampled actions."""
        last_targets = targets[:, -1]
        logits = self.policy(inputs, training=True)
        sampled = self.sampled_actions(logits)
        hidden = self.encode(inputs, training=True, actions=sampled)
        ce_loss = self.next_item_loss(hidden, inputs, targets)
        # The baseline: the greedy policy's reward; no gradient flows through it. It runs in
        # training mode as the sampled pass does, so that dropout lowers both rewards alike.
        greedy = tf.stop_gradient(self.greedy_actions(logits))
        greedy_hidden = tf.stop_gradient(self.encode(inputs, training=True, actions=greedy))
        advantage = self_critical_advantage(
            self.reward(hidden, sampled, last_targets),
            self.reward(greedy_hidden, greedy, last_targets),
        )
        # Only the blocks the policy controls carry a decision (and a log-probability).
        chosen = tf.where(sampled > 0, RETAIN, SKIP)
        log_probs = tfd.Categorical(logits=logits).log_prob(chosen) * self.controlled
        return ce_loss, reinforce_loss(log_probs, advantage), advantage, sampled

    def compute_loss(self, inputs, targets):
        """L = L_CE + beta * L_RL (Eq. 10); L_CE alone for a policy without trainable weights."""
        # A policy without trainable weights (the random one) learns nothing from L_RL, so the loss
        # is L_CE under the sampled actions (decided at trace time). L_RL would still change the
        # reported loss (it has a value, not a gradient), and its greedy baseline would cost a
        # forward pass and, as the random policy samples its "greedy" actions too, a second seed.
        if not self.policy.trainable_weights:
            sampled = self.sampled_actions(self.policy(inputs, training=True))
            self._track_usage(sampled)
            hidden = self.encode(inputs, training=True, actions=sampled)
            return self.next_item_loss(hidden, inputs, targets)
        ce_loss, rl_loss, _, sampled = self.losses(inputs, targets)
        self._track_usage(sampled)
        return ce_loss + self.beta * rl_loss  # Eq. 10
