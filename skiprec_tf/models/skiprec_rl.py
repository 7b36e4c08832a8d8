"""SkipRec-RL: REINFORCE with a self-critical baseline on the reward of Eq. 8 (Eq. 9-10)."""

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from skiprec_tf.config import REWARDS
from skiprec_tf.models.policy import RETAIN, SKIP
from skiprec_tf.models.rewards import (
    block_reward,
    correct_in_top_k,
    likelihood_reward,
    policy_entropy,
    reciprocal_rank,
    reinforce_loss,
    self_critical_advantage,
)
from skiprec_tf.models.skiprec import SkipRec
from skiprec_tf.training.distribute import global_mean

tfd = tfp.distributions


class SkipRecRL(SkipRec):
    """L = L_CE + beta * L_RL (Eq. 8-10); the backbone trains under the sampled policy A^s, the
    policy by SCST with the greedy policy A^ as baseline. A recommendation is correct when the
    true last item is in the top `reward_top_k` (5, as in the authors' code). Actions are
    `[batch, N]`, rewards and advantages `[batch]`.

    With a policy that has no trainable weights (the random one) the loss is L_CE alone.

    Beyond the paper, for data sets where a top-k hit is rare and the self-critical advantage is
    0 for nearly every user (each off by default, which is the paper's method): a denser
    `reward` (`rewards.REWARDS`), the advantage normalised over the batch, an entropy bonus,
    and several sampled policies per user. Training reports, besides the loss and block usage,
    the fraction of users with a non-zero advantage, the policy's mean entropy and the standard
    deviation of the greedy policy's blocks per user in the batch: the signs of a policy that
    collapses to one sub-network for everybody.

    Args:
      gamma: the penalty of a wrong recommendation in Eq. 8.
      beta: the weight of L_RL in Eq. 10.
      reward_top_k: the cut-off of a correct recommendation.
      reward: "hit" (Eq. 8), "reciprocal_rank" or "log_likelihood" (`rewards.py`).
      normalize_advantage: divide the advantage by its standard deviation over the batch.
      entropy_weight: weight of the policy's entropy, subtracted from L_RL.
      policy_samples: sampled policies per user (each trains the backbone and the policy, against
        the one greedy baseline); the losses are their means.
      greedy_ce_weight: weight of L_CE under the greedy policy A^ (the sub-network that is
        served and validated), added to L_CE under A^s; 0, the paper, trains the backbone under
        the sampled policy only.
      **kwargs: see `SkipRec`.
    """

    def __init__(
        self,
        num_items,
        policy,
        gamma=1.0,
        beta=1.0,
        reward_top_k=5,
        reward="hit",
        normalize_advantage=False,
        entropy_weight=0.0,
        policy_samples=1,
        greedy_ce_weight=0.0,
        **kwargs,
    ):
        super().__init__(num_items, policy, **kwargs)
        if reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {reward!r}")
        if policy_samples < 1:
            raise ValueError(f"policy_samples must be >= 1, got {policy_samples}")
        if greedy_ce_weight < 0:
            raise ValueError(f"greedy_ce_weight must be >= 0, got {greedy_ce_weight}")
        self.gamma = gamma
        self.beta = beta
        self.reward_top_k = reward_top_k
        self.reward_kind = reward
        self.normalize_advantage = normalize_advantage
        self.entropy_weight = entropy_weight
        self.policy_samples = policy_samples
        self.greedy_ce_weight = greedy_ce_weight
        self.diagnostics = {
            name: keras.metrics.Mean(name=name)
            for name in ("advantage_nonzero", "policy_entropy", "blocks_std")
        }

    def reward(self, hidden, actions, last_targets):
        """Eq. 8 (or the chosen denser reward, minus the optional usage penalty) of `actions`
        given their hidden states."""
        scores = self.output_layer(hidden[:, -1])
        if self.reward_kind == "log_likelihood":
            reward = likelihood_reward(actions, scores, last_targets)
        else:
            if self.reward_kind == "hit":
                correct = correct_in_top_k(scores, last_targets, self.reward_top_k)
            else:
                correct = reciprocal_rank(scores, last_targets)
            reward = block_reward(actions, correct, self.gamma)
        return reward - self.usage_penalty(tf.reduce_mean(actions, axis=1))

    def losses(self, inputs, targets):
        """L_CE under the sampled policies (plus `greedy_ce_weight` times L_CE under the greedy
        one), L_RL (Eq. 9, with the entropy bonus), the advantage `[samples * batch]` and the
        first sampled actions."""
        last_targets = targets[:, -1]
        logits = self.policy(inputs, training=True)
        sampled = self.sampled_actions(logits, inputs)
        hidden = self.encode(inputs, training=True, actions=sampled)
        # The baseline: the greedy policy's reward; no gradient flows through it (its hidden
        # states carry one only into the optional greedy L_CE). It runs in training mode as the
        # sampled pass does, so that dropout lowers both rewards alike.
        greedy = tf.stop_gradient(self.greedy_actions(logits, inputs))
        greedy_hidden = self.encode(inputs, training=True, actions=greedy)
        greedy_reward = self.reward(tf.stop_gradient(greedy_hidden), greedy, last_targets)
        ce_losses, rl_losses, advantages = [], [], []
        for sample in range(self.policy_samples):
            if sample:
                actions = self.sampled_actions(logits, inputs)
                actions_hidden = self.encode(inputs, training=True, actions=actions)
            else:
                actions, actions_hidden = sampled, hidden
            ce_losses.append(self.next_item_loss(actions_hidden, inputs, targets))
            advantage = self_critical_advantage(
                self.reward(actions_hidden, actions, last_targets),
                greedy_reward,
                self.normalize_advantage,
            )
            # Only the blocks the policy controls carry a decision (and a log-probability).
            chosen = tf.where(actions > 0, RETAIN, SKIP)
            log_probs = tfd.Categorical(logits=logits).log_prob(chosen) * self.controlled
            rl_losses.append(reinforce_loss(log_probs, advantage))
            advantages.append(advantage)
        entropy = policy_entropy(logits, self.controlled)
        rl_loss = tf.add_n(rl_losses) / self.policy_samples
        if self.entropy_weight:
            rl_loss -= self.entropy_weight * global_mean(entropy)
        advantage = tf.concat(advantages, axis=0)
        self._track_diagnostics(advantage, entropy, greedy)
        ce_loss = tf.add_n(ce_losses) / self.policy_samples
        if self.greedy_ce_weight:
            ce_loss += self.greedy_ce_weight * self.next_item_loss(greedy_hidden, inputs, targets)
        return ce_loss, rl_loss, advantage, sampled

    def _track_diagnostics(self, advantage, entropy, greedy):
        blocks = tf.reduce_sum(greedy * self.controlled, axis=1)
        values = {
            "advantage_nonzero": tf.cast(tf.not_equal(advantage, 0.0), tf.float32),
            "policy_entropy": entropy,
            "blocks_std": tf.math.reduce_std(blocks),
        }
        for name, tracker in self.diagnostics.items():
            tracker.update_state(values[name])

    def compute_loss(self, inputs, targets):
        """L = L_CE + beta * L_RL (Eq. 10); L_CE alone for a policy without trainable weights."""
        # A policy without trainable weights (the random one) learns nothing from L_RL, so the loss
        # is L_CE under the sampled actions (decided at trace time). L_RL would still change the
        # reported loss (it has a value, not a gradient), and its greedy baseline would cost a
        # forward pass and, as the random policy samples its "greedy" actions too, a second seed.
        if not self.policy.trainable_weights:
            sampled = self.sampled_actions(self.policy(inputs, training=True), inputs)
            self._track_usage(sampled)
            hidden = self.encode(inputs, training=True, actions=sampled)
            return self.next_item_loss(hidden, inputs, targets)
        ce_loss, rl_loss, _, sampled = self.losses(inputs, targets)
        self._track_usage(sampled)
        return ce_loss + self.beta * rl_loss  # Eq. 10

    @property
    def training_trackers(self):
        if not self.policy.trainable_weights:
            return super().training_trackers
        return [*super().training_trackers, *self.diagnostics.values()]

    @property
    def metrics(self):
        return [*super().metrics, *self.diagnostics.values()]
