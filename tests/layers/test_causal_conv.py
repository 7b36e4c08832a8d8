"""The causal dilated convolution (psi of Eq. 2): its tap positions and Keras' causal Conv1D."""

import functools

import numpy as np
import pytest
import tensorflow as tf

from skiprec_tf.layers import CausalDilatedConv1D
from skiprec_tf.layers.causal_conv import gather_taps, tap_positions


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


def _inline_taps(inputs, taps):
    """The taps as one plain gather, with TensorFlow's gradient of it."""
    return tf.gather(tf.pad(inputs, [[0, 0], [1, 0], [0, 0]]), taps, axis=1)


@pytest.mark.parametrize("kernel_size", [3, 5])  # 3 or more terms: an order to keep
@pytest.mark.parametrize("dilation", [1, 4, 16])
def test_gather_taps_gradient_is_the_gathers_bit_for_bit(kernel_size, dilation):
    """The shifted sum equals TensorFlow's gradient of the gather exactly, in a compiled step
    (where grappler rewrites graphs) with a convolution's matmul after it; dilation 16 reaches
    before the start of a 9-position sequence with every tap but the last."""
    rng = np.random.default_rng(dilation + 10 * kernel_size)
    inputs = tf.constant(rng.normal(size=(5, 9, 6)), tf.float32)
    kernel = tf.constant(rng.normal(size=(kernel_size * 6, 4)), tf.float32)
    upstream = tf.constant(rng.normal(size=(45, 4)), tf.float32)
    taps = tap_positions(9, kernel_size, dilation)

    def step(gather):
        @tf.function
        def compiled(inputs):
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                rows = tf.reshape(gather(inputs, taps), [-1, kernel_size * 6])
                outputs = tf.matmul(rows, kernel)
            return outputs, tape.gradient(outputs, inputs, output_gradients=upstream)

        return [t.numpy() for t in compiled(inputs)]

    training = functools.partial(gather_taps, training=True)
    (outputs, gradient), (inline_outputs, inline_gradient) = step(training), step(_inline_taps)
    np.testing.assert_array_equal(outputs, inline_outputs)
    np.testing.assert_array_equal(gradient, inline_gradient)
    assert np.abs(gradient).max() > 0


def _graph_ops(gather, inputs, taps):
    concrete = tf.function(lambda inputs: gather(inputs, taps)).get_concrete_function(inputs)
    return {node.op for node in concrete.graph.as_graph_def().node}


def test_outside_training_or_with_positions_picked_at_run_time_the_gather_is_plain():
    """Inference graphs (exports) hold no custom gradient: the same ops as the plain gather."""
    inputs = tf.random.normal([2, 4, 3])
    for taps in (tap_positions(4, 3, 1), tf.constant(tap_positions(4, 3, 1))):
        np.testing.assert_array_equal(gather_taps(inputs, taps), _inline_taps(inputs, taps))
        assert _graph_ops(gather_taps, inputs, taps) == _graph_ops(_inline_taps, inputs, taps)
    trained = _graph_ops(
        functools.partial(gather_taps, training=True), inputs, tap_positions(4, 3, 1)
    )
    assert "IdentityN" in trained  # the custom gradient's mark, only in training
