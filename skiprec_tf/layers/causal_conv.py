"""Causal dilated 1-D convolution, the building block of NextItNet (psi in Eq. 2)."""

import keras
import tensorflow as tf


class CausalDilatedConv1D(keras.layers.Layer):
    """A 1-D convolution whose output at position i sees only positions <= i.

    Written as one matmul over `kernel_size` shifted copies of the input (positions i,
    i - r, i - 2r, ...), which is exact, fast for the short sequences of recommendation and,
    unlike Keras' `Conv1D(padding="causal")`, also accepts a batch with zero rows.

    Args:
      filters: output channels.
      kernel_size: taps of the convolution (paper: 3).
      dilation_rate: r, the distance between taps.

    Input shape `[batch, seq_len, channels]`; output shape `[batch, seq_len, filters]`.
    """

    def __init__(self, filters: int, kernel_size: int = 3, dilation_rate: int = 1, **kwargs):
        super().__init__(**kwargs)
        if filters < 1 or kernel_size < 1 or dilation_rate < 1:
            raise ValueError(
                f"filters, kernel_size and dilation_rate must be positive, got "
                f"{filters}, {kernel_size}, {dilation_rate}"
            )
        self.filters = filters
        self.kernel_size = kernel_size
        self.dilation_rate = dilation_rate

    def build(self, input_shape):
        channels = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.kernel_size * channels, self.filters),
            initializer="glorot_uniform",
        )
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    def call(self, inputs):
        reach = (self.kernel_size - 1) * self.dilation_rate
        padded = tf.pad(inputs, [[0, 0], [reach, 0], [0, 0]])
        # Tap j looks (kernel_size - 1 - j) * r positions back; the last tap is position i itself.
        taps = [
            padded[:, j * self.dilation_rate : (j * self.dilation_rate - reach) or None]
            for j in range(self.kernel_size)
        ]
        columns = tf.concat(taps, axis=-1) if self.kernel_size > 1 else taps[0]
        # A 2-D MatMul + BiasAdd, not a batched matmul: TF fuses it (oneDNN), and a batched
        # matmul of unknown batch size ran 2x slower inside serving's functions.
        rows = tf.reshape(columns, [-1, columns.shape[-1]])
        outputs = tf.nn.bias_add(tf.matmul(rows, self.kernel), self.bias)
        return tf.reshape(outputs, tf.concat([tf.shape(inputs)[:-1], [self.filters]], axis=0))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "dilation_rate": self.dilation_rate,
        }
