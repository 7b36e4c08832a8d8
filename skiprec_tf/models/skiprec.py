"""SkipRec: a deep backbone whose residual blocks a per-user policy retains or skips (Eq. 5)."""

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from skiprec_tf.models.backbone import ResidualRecommender
from skiprec_tf.models.noise import example_uniform
from skiprec_tf.models.policy import RETAIN, PolicyNetwork, greedy_retain
from skiprec_tf.models.real_skipping import retaining_rows
from skiprec_tf.training.distribute import step_logs

tfd = tfp.distributions


class SkipRec(ResidualRecommender):
    """The backbone (NextItNet+'s or SASRec+'s blocks) and a policy network (sections 3.4, 5.4).

    With the policy's decisions I_l in {0, 1} per user, the adaptive output of block l is
    (Eq. 5) E_l^adaptive = I_l * block_l(E_{l-1}^adaptive) + (1 - I_l) * E_{l-1}^adaptive.

    Inference uses the greedy policy (argmax; a random policy samples). This base class has no
    training loss: `SkipRecGumbel` (Eq. 6-7) and `SkipRecRL` (Eq. 8-10) implement
    `compute_loss`, with any policy network, the random one included. Both report the mean
    block usage of their training actions (`_track_usage`) beside the loss.

    `policy_optimizer`, None unless set (beyond the paper), steps the policy's weights (it shares
    none with the backbone) with an optimizer of their own, e.g. at a smaller learning rate; the
    model's optimizer steps the rest.

    `skip_in_training` (beyond the paper) computes Eq. 5 as the served model does: block l runs
    only on the users whose actions retain it (`real_skipping.retaining_rows`), not on all of
    them with the skipped rows masked out, as the authors' code does. The loss and the gradients
    of the backbone's and the policy's weights are the same (up to float rounding; with dropout
    the dropped units differ), as long as no gradient flows through the actions themselves: so
    SkipRec-RL, not the straight-through Gumbel, whose gradient of a skip needs the skipped
    block's output (Eq. 7). It needs shapes known only at run time: no XLA.

    `controlled` `[N]` marks the blocks the policy decides; the others are always retained. It
    starts all ones; `PolicySchedule` sets it per epoch for a warm-up (none controlled) and a
    BlockDrop-style curriculum (the last k blocks controlled, k growing).

    Args:
      num_items: V.
      policy: a `PolicyNetwork` over the same N blocks.
      target_usage: optional fraction of blocks to aim for (beyond the paper); None is off.
      usage_weight: weight of the penalty (usage - target_usage)^2.
      seed: seed of the sampled actions.
      **kwargs: the backbone's arguments (its `blocks` included), see `ResidualRecommender`.
    """

    def __init__(
        self,
        num_items: int,
        policy: PolicyNetwork,
        target_usage=None,
        usage_weight: float = 1.0,
        seed: int = 0,
        per_example_noise: bool = False,
        skip_in_training: bool = False,
        **kwargs,
    ):
        super().__init__(num_items, **kwargs)
        if policy.num_blocks != self.num_blocks:
            raise ValueError(
                f"policy decides {policy.num_blocks} blocks, backbone has {self.num_blocks}"
            )
        if target_usage is not None and not 0.0 <= target_usage <= 1.0:
            raise ValueError(f"target_usage must be in [0, 1], got {target_usage}")
        self.policy = policy
        self.target_usage = target_usage
        self.usage_weight = usage_weight
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.per_example_noise = per_example_noise
        self.skip_in_training = skip_in_training
        self.controlled = tf.Variable(
            tf.ones([self.num_blocks]), trainable=False, name="controlled"
        )
        self.block_usage_tracker = keras.metrics.Mean(name="block_usage")
        self.policy_optimizer = None

    def apply_gradients(self, gradients):
        """One step of the model's optimizer, and of `policy_optimizer` on the policy's own
        weights when there is one."""
        if self.policy_optimizer is None:
            return super().apply_gradients(gradients)
        own = {id(v) for v in self.policy.trainable_variables}
        pairs = list(zip(gradients, self.trainable_variables))
        policy = [(g, v) for g, v in pairs if id(v) in own]
        rest = [(g, v) for g, v in pairs if id(v) not in own]
        self.optimizer.apply(*zip(*rest))
        self.policy_optimizer.apply(*zip(*policy))

    # Actions: float [batch, N], 1 = retain.

    def greedy_actions(self, logits, inputs):
        """Inference actions: argmax of the policy (a sample for a non-deterministic policy)."""
        if self.policy.deterministic:
            actions = greedy_retain(logits)
        else:
            actions = self.sampled_actions(logits, inputs)
        return self._only_controlled(actions)

    def sampled_actions(self, logits, inputs):
        """Actions drawn from the policy's categorical distributions: from one stream over the
        batch, or with `per_example_noise` from each user's own (`example_uniform`)."""
        seed = self.next_seed()
        if self.per_example_noise:
            retain = tf.nn.softmax(logits)[..., RETAIN]
            noise = example_uniform(inputs, seed, self.num_blocks)
            return self._only_controlled(tf.cast(noise < retain, tf.float32))
        sample = tfd.Categorical(logits=logits).sample(seed=seed)
        return self._only_controlled(tf.cast(sample == RETAIN, tf.float32))

    def next_seed(self):
        """A fresh stateless seed (TFP takes int32) from the model's seed generator."""
        return tf.cast(self.seed_generator.next(), tf.int32)

    def _only_controlled(self, actions):
        return actions * self.controlled + (1.0 - self.controlled)

    def inference_actions(self, inputs):
        return self.greedy_actions(self.policy(inputs), inputs)

    def encode(self, inputs, training=False, actions=None):
        """Hidden states under `actions` `[batch, N]` (default: the inference policy), Eq. 5;
        with `skip_in_training` a block runs only on the rows that retain it."""
        if actions is None:
            actions = self.inference_actions(inputs)
        hidden = self.embed(inputs, training)
        padding_mask = inputs == 0
        if self.skip_in_training:
            return self.finish(
                retaining_rows(
                    hidden,
                    actions,
                    lambda l, hidden, padding_mask: self.residual_blocks[l](
                        hidden, padding_mask=padding_mask, training=training
                    ),
                    padding_mask,
                )
            )
        for l, block in enumerate(self.residual_blocks):
            retain = actions[:, l, None, None]
            output = block(hidden, padding_mask=padding_mask, training=training)
            hidden = retain * output + (1.0 - retain) * hidden
        return self.finish(hidden)

    def usage_penalty(self, usage):
        """(usage - target_usage)^2 per user, or 0 without a target (the paper)."""
        if self.target_usage is None:
            return tf.zeros_like(usage)
        return self.usage_weight * tf.square(usage - self.target_usage)

    def compute_loss(self, inputs, targets):
        raise NotImplementedError(
            "SkipRec has no training loss of its own: train SkipRecGumbel or SkipRecRL, whatever "
            "the policy network (the random one included)"
        )

    def _track_usage(self, actions):
        """Adds the mean block usage of `actions` `[batch, N]` to the `block_usage` metric."""
        self.block_usage_tracker.update_state(tf.reduce_mean(actions, axis=1))

    def test_step(self, data):
        inputs, targets = data
        actions = self.inference_actions(inputs)
        scores = self.output_layer(self.encode(inputs, actions=actions)[:, -1])
        self.update_ranking(scores, targets)
        self._track_usage(actions)
        results = {**self.ranking.results(), "block_usage": self.block_usage_tracker.result()}
        return step_logs(results)

    @property
    def training_trackers(self):
        return [*super().training_trackers, self.block_usage_tracker]

    @property
    def metrics(self):
        return [*super().metrics, self.block_usage_tracker]
