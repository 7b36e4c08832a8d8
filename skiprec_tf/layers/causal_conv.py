"""Causal dilated 1-D convolution, the building block of NextItNet (psi in Eq. 2)."""

import keras
import numpy as np
import tensorflow as tf

from skiprec_tf.xla_context import tracing_under_xla


def tap_positions(seq_len, kernel_size: int, dilation_rate: int):
    """Where output position i of psi reads its `kernel_size` taps i - (kernel_size - 1 - j) r,
    as rows of the input with one zero row prepended (row 0): taps before the sequence's start
    read that row. `[seq_len, kernel_size]` int32, a NumPy array when `seq_len` is an int."""
    lookback = [(kernel_size - 1 - j) * dilation_rate for j in range(kernel_size)]
    if isinstance(seq_len, int):
        return (np.maximum(np.arange(seq_len)[:, None] - lookback, -1) + 1).astype(np.int32)
    return tf.maximum(tf.range(seq_len)[:, None] - lookback, -1) + 1


def seq_len_of(inputs):
    """The length of `[batch, seq_len, ...]` inputs: an int when static, else a tensor."""
    return inputs.shape[1] if inputs.shape[1] is not None else tf.shape(inputs)[1]


def causal_dilated_conv(inputs, kernel, bias, taps, training=False):
    """psi of explicit weights: kernel `[kernel_size * channels, filters]`, bias `[filters]`, and
    the positions of the taps (`tap_positions`, which may be picked at run time); `training`
    as `gather_taps`'s.

    Output position i sees positions i, i - r, i - 2r, ..., never later ones: one gather of the
    taps, one matmul.
    """
    # [batch, seq_len, kernel_size, channels]: one gather, faster to serve than a slice per tap
    # (docs/results.md), and the positions may be a tensor.
    columns = gather_taps(inputs, taps, training)
    # A 2-D MatMul + BiasAdd, not a batched matmul: TF fuses it (oneDNN), and a batched matmul of
    # unknown batch size ran 2x slower inside serving's functions.
    rows = tf.reshape(columns, [-1, kernel.shape[0]])
    outputs = tf.nn.bias_add(tf.matmul(rows, kernel), bias)
    return tf.reshape(outputs, tf.concat([tf.shape(inputs)[:-1], [kernel.shape[-1]]], axis=0))


def gather_taps(inputs, taps, training=False):
    """`[batch, seq_len, kernel_size, channels]`: the taps (`tap_positions`) of every position of
    `[batch, seq_len, channels]` inputs, a zero row before the start.

    In `training`, with the positions known when the step is traced (a NumPy array), the
    gradient is the taps' gradients shifted back and added (`_shifted_sum`), not TensorFlow's
    gradient of a gather, which transposes the gradient to the gathered axis, sums it with an
    unsorted segment sum and transposes it back: the same sums in the same order, so the same
    values bit for bit (`tests/layers/test_causal_conv.py`), and a NextItNet+ training step about
    4% (d = 64) to 7% (d = 256) faster (docs/results.md, issue 24). Not under XLA, which compiles
    the gather's gradient its own way, nor outside training: an export holds the plain gather and
    no gradient function.
    """
    if not training or not isinstance(taps, np.ndarray) or tracing_under_xla():
        return _gather_after_zero_row(inputs, taps)

    @tf.custom_gradient
    def gather(inputs):
        return _gather_after_zero_row(inputs, taps), lambda upstream: _shifted_sum(upstream, taps)

    return gather(inputs)


def _gather_after_zero_row(inputs, taps):
    """Position 0 of the taps is the zero row before the start; position p + 1 is input p."""
    return tf.gather(tf.pad(inputs, [[0, 0], [1, 0], [0, 0]]), taps, axis=1)


def _shifted_sum(upstream, taps):
    """The gradient of `gather_taps` for `[batch, seq_len, kernel_size, channels]` `upstream`.

    Tap j of position i reads position i - o_j (o_j = (kernel_size - 1 - j) r), so position p
    receives upstream[:, p + o_j, j] of every tap with p + o_j < seq_len. TensorFlow's gradient
    of the gather adds them over positions i, then taps j: in the order of o_j. So does this sum,
    each term added to the rows it reaches (a slice, an add, a concat: no chain of adds, which
    grappler's arithmetic optimizer would merge into one AddN and sum in another order).
    """
    seq_len, kernel_size = taps.shape
    offsets = seq_len - taps[-1]  # taps[-1, j] = seq_len - o_j, or 0 when o_j >= seq_len
    total = None
    for j in sorted(range(kernel_size), key=lambda j: offsets[j]):
        offset, term = int(offsets[j]), upstream[:, :, j]
        if offset >= seq_len:
            continue  # every read of this tap is before the start: the zero row's
        if total is None:  # the smallest offset: 0 for `tap_positions`
            total = tf.pad(term[:, offset:], [[0, 0], [0, offset], [0, 0]]) if offset else term
        else:
            reached = seq_len - offset
            total = tf.concat([total[:, :reached] + term[:, offset:], total[:, reached:]], axis=1)
    return total


class CausalDilatedConv1D(keras.layers.Layer):
    """A 1-D convolution whose output at position i sees only positions <= i.

    The layer holding the weights of `causal_dilated_conv`: exact, fast for the short sequences of
    recommendation and, unlike Keras' `Conv1D(padding="causal")`, it accepts a batch with zero rows.

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
        taps = tap_positions(seq_len_of(inputs), self.kernel_size, self.dilation_rate)
        return causal_dilated_conv(inputs, self.kernel, self.bias, taps)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "dilation_rate": self.dilation_rate,
        }
