"""Adam and AdamW whose step-wide scalars are computed once per step, not once per variable.

Keras 3's Adam computes alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) (Kingma and Ba 2015,
Algorithm 1) again inside every variable's update: about 10 of the 25 ops each variable adds to the
training step's graph. A 32-block NextItNet+ has 291 variables, so these copies are thousands of
ops that TensorFlow traces, optimises and runs at every start of a run. Here alpha is computed once
per step and every variable's update reads it: the same ops on the same values, so the same
weights bit for bit, from a smaller graph (`tests/training/test_optimizers.py` checks both).
"""

import keras
from keras import ops


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
        """m <- beta_1 m + (1 - beta_1) g, v <- beta_2 v + (1 - beta_2) g^2,
        theta <- theta - alpha m / (sqrt(v) + epsilon), in Keras's order of operations."""
        gradient = ops.cast(gradient, variable.dtype)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        self.assign_sub(
            variable, ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(v), self.epsilon))
        )


class Adam(_StepScalarsOnce, keras.optimizers.Adam):
    """`keras.optimizers.Adam` with alpha computed once per step (the same weights bit for bit)."""


class AdamW(_StepScalarsOnce, keras.optimizers.AdamW):
    """`keras.optimizers.AdamW` with alpha computed once per step (the same weights bit for bit);
    the decoupled weight decay is Keras's, applied before the update."""
