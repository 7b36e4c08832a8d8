"""The causal dilated convolution (psi of Eq. 2): its tap positions and Keras' causal Conv1D."""

import numpy as np
import tensorflow as tf

from skiprec_tf.layers import CausalDilatedConv1D
from skiprec_tf.layers.causal_conv import tap_positions


def test_tap_positions_by_hand():
    # Kernel 3, dilation 2: output i reads i - 4, i - 2, i (input rows shifted by the zero row 0).
    np.testing.assert_array_equal(
        tap_positions(5, kernel_size=3, dilation_rate=2),
        [[0, 0, 1], [0, 0, 2], [0, 1, 3], [0, 2, 4], [1, 3, 5]],
    )
    np.testing.assert_array_equal(tap_positions(tf.constant(5), 3, 2), tap_positions(5, 3, 2))


def test_causal_conv_matches_keras_conv1d():
    conv = CausalDilatedConv1D(6, kernel_size=3, dilation_rate=4)
    x = tf.random.normal([3, 20, 5], seed=1)
    conv(x)
    reference = tf.keras.layers.Conv1D(6, 3, dilation_rate=4, padding="causal")
    reference.build(x.shape)
    reference.set_weights([conv.kernel.numpy().reshape(3, 5, 6), conv.bias.numpy()])
    np.testing.assert_allclose(conv(x), reference(x), atol=1e-5)
