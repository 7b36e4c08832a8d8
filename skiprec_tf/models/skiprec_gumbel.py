"""SkipRec-Gumbel: hard Gumbel-max actions forward, softmax-relaxation gradients back (Eq. 6-7)."""

import tensorflow as tf
import tensorflow_probability as tfp

from skiprec_tf.models.noise import example_uniform
from skiprec_tf.models.policy import RETAIN
from skiprec_tf.models.skiprec import SkipRec
from skiprec_tf.training.distribute import global_mean

tfd = tfp.distributions


def gumbel_straight_through(logits, temperature, seed, uniform=None):
    """One-hot Gumbel-max samples whose gradient is that of the Gumbel-softmax relaxation.

    Forward: z = one_hot(argmax_i(g_i + log pi_i)) (Eq. 6). Backward: the gradient of
    alpha = softmax((log pi + g) / tau) (Eq. 7) for the same noise g. `logits` may be any
    unnormalised log pi: the constant of log_softmax cancels in both equations.

    Args:
      logits: `[..., k]`.
      temperature: tau.
      seed: a stateless seed.
      uniform: optional uniform noise in (0, 1) of `logits`' shape, used instead of the seed
        (`example_uniform`, per-example noise).

    Returns:
      `[..., k]` exactly one-hot values carrying the relaxation's gradient.
    """
    if uniform is None:
        relaxed = tfd.RelaxedOneHotCategorical(temperature, logits=logits).sample(seed=seed)
    else:  # the same sample from given noise: softmax((log pi + g) / tau), g Gumbel(0, 1)
        gumbel = -tf.math.log(-tf.math.log(uniform))
        relaxed = tf.nn.softmax((tf.nn.log_softmax(logits) + gumbel) / temperature)
    hard = tf.one_hot(tf.argmax(relaxed, axis=-1), tf.shape(logits)[-1], dtype=relaxed.dtype)
    # Straight-through: the value of `hard`, the gradient of `relaxed`.
    return relaxed + tf.stop_gradient(hard - relaxed)


class SkipRecGumbel(SkipRec):
    """SkipRec trained end to end with the cross-entropy only; the policy learns through the
    straight-through Gumbel-softmax (Eq. 6-7; default tau = 10, the paper's).

    `compute_loss` draws hard actions `[batch, N]` from the policy's logits `[batch, N, 2]`,
    runs Eq. 5 under them and returns L_CE (Eq. 4) plus the optional usage penalty.

    Args:
      temperature: tau of Eq. 7.
      **kwargs: see `SkipRec`.
    """

    def __init__(self, num_items, policy, temperature: float = 10.0, **kwargs):
        super().__init__(num_items, policy, **kwargs)
        if self.skip_in_training:
            raise ValueError(
                "skip_in_training is SkipRec-RL's: the straight-through gradient of a skipped "
                "block's decision needs that block's output (Eq. 7)"
            )
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.temperature = temperature

    def compute_loss(self, inputs, targets):
        """L_CE under straight-through Gumbel actions (Eq. 6-7), plus the optional usage penalty."""
        logits = self.policy(inputs, training=True)
        seed, uniform = self.next_seed(), None
        if self.per_example_noise:
            uniform = tf.reshape(
                example_uniform(inputs, seed, 2 * self.num_blocks), tf.shape(logits)
            )
        one_hot = gumbel_straight_through(logits, self.temperature, seed, uniform)
        actions = self._only_controlled(one_hot[..., RETAIN])
        self._track_usage(actions)
        hidden = self.encode(inputs, training=True, actions=actions)
        loss = self.next_item_loss(hidden, inputs, targets)
        return loss + global_mean(self.usage_penalty(tf.reduce_mean(actions, axis=1)))
