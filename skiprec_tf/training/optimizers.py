"""Adam and AdamW whose step-wide scalars are computed once per step, not once per variable.

Keras 3's Adam computes alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) (Kingma and Ba 2015,
Algorithm 1) again inside every variable's update: about 10 of the 25 ops each variable adds to the
training step's graph. A 32-block NextItNet+ has 291 variables, so these copies are thousands of
ops that TensorFlow traces, optimises and runs at every start of a run. Here alpha is computed once
per step and every variable's update reads it: the same ops on the same values, so the same
weights bit for bit, from a smaller graph (`tests/training/test_optimizers.py` checks both).
A dense gradient's update is moreover one TensorFlow function per variable shape (`adam_update`),
traced once and called for every variable of that shape (not under XLA, `tracing_under_xla`).
"""

import keras
import tensorflow as tf
from keras import ops

from skiprec_tf.xla_context import tracing_under_xla


class _StepScalarsOnce:
    """Overrides Keras's TensorFlow update loop (`_distributed_tf_update_step`, run once per step in
    the cross-replica context) to compute alpha before it, and updates each variable as
    `keras.optimizers.Adam.update_step` does (without amsgrad) with that alpha."""

    def _distributed_tf_update_step(self, distribution, grads_and_vars, learning_rate):
        if self.amsgrad:
            raise ValueError("amsgrad is not supported by this Adam")
        alphas = {}  # per variable dtype, as Keras casts them
        for gradient, variable in grads_and_vars:
            if variable.dtype not in alphas:
                alphas[variable.dtype] = self._alpha(learning_rate, variable.dtype)
            distribution.extended.update(
                variable,
                self._update_with_alpha,
                args=(gradient, alphas[variable.dtype]),
                group=False,
            )

    def _alpha(self, learning_rate, dtype):
        """lr * sqrt(1 - beta_2^t) / (1 - beta_1^t), t the step being taken (1 at the first)."""
        lr = ops.cast(learning_rate, dtype)
        local_step = ops.cast(self.iterations + 1, dtype)
        beta_1_power = ops.power(ops.cast(self.beta_1, dtype), local_step)
        beta_2_power = ops.power(ops.cast(self.beta_2, dtype), local_step)
        return lr * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)

    def _update_with_alpha(self, variable, gradient, alpha):
        """Adam's update of `variable` (`_adam_step`) with the step's alpha."""
        gradient = ops.cast(gradient, variable.dtype)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        constants = (1 - self.beta_1, 1 - self.beta_2, self.epsilon)
        inline = isinstance(gradient, tf.IndexedSlices) or tf.distribute.has_strategy()
        if inline or tracing_under_xla():  # Keras's assignments, which know both
            _adam_step(
                self.assign_add, self.assign_sub, variable, m, v, gradient, alpha, *constants
            )
        else:
            adam_update(*map(_tf_variable, (variable, m, v)), gradient, alpha, *constants)


class Adam(_StepScalarsOnce, keras.optimizers.Adam):
    """`keras.optimizers.Adam` with alpha computed once per step (the same weights bit for bit)."""


class AdamW(_StepScalarsOnce, keras.optimizers.AdamW):
    """`keras.optimizers.AdamW` with alpha computed once per step (the same weights bit for bit);
    the decoupled weight decay is Keras's, applied before the update."""


def _tf_variable(variable):
    """The TensorFlow variable of a Keras one (itself if it is one already)."""
    return variable.value if isinstance(variable, keras.Variable) else variable


def _adam_step(assign_add, assign_sub, variable, m, v, gradient, alpha, one_minus_beta_1,
               one_minus_beta_2, epsilon):  # fmt: skip
    """m <- m + (g - m)(1 - beta_1), v <- v + (g^2 - v)(1 - beta_2), then
    theta <- theta - alpha m / (sqrt(v) + epsilon): Keras's Adam's ops, in its order."""
    assign_add(m, ops.multiply(ops.subtract(gradient, m), one_minus_beta_1))
    assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), one_minus_beta_2))
    assign_sub(variable, ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(v), epsilon)))


@tf.function(autograph=False)
def adam_update(variable, m, v, gradient, alpha, one_minus_beta_1, one_minus_beta_2, epsilon):
    """`_adam_step` on a dense gradient, as one TensorFlow function per variable shape: the
    training step traces and optimises an update per distinct shape, not per variable (291 in a
    32-block NextItNet+), and runs the same ops on the same values."""
    _adam_step(
        lambda ref, value: ref.assign_add(value), lambda ref, value: ref.assign_sub(value),
        variable, m, v, gradient, alpha, one_minus_beta_1, one_minus_beta_2, epsilon,
    )  # fmt: skip
