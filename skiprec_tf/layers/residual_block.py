"""The NextItNet+ residual block with the ReZero coefficient (Eq. 1-2)."""

import keras
import tensorflow as tf

from skiprec_tf.layers.causal_conv import CausalDilatedConv1D


class NextItNetBlock(keras.layers.Layer):
    """E_l = lambda * F(E_{l-1}) + E_{l-1} (Eq. 1), with the residual mapping (Eq. 2)

        F(E) = ReLU(LN_2(psi_2(ReLU(LN_1(psi_1(E)))))),

    psi_1, psi_2 causal convolutions with dilations r and 2r. lambda is a learnable scalar
    initialised to 0 (ReZero, NextItNet+), so a fresh block is the identity; with
    `rezero=False` it is fixed to 1 (plain NextItNet).

    Args:
      dilation: r, the dilation of the first convolution.
      kernel_size: width of both convolutions.
      rezero: learnable lambda from 0 (True) or fixed lambda = 1 (False).

    Input and output shape `[batch, seq_len, channels]`.
    """

    def __init__(self, dilation: int = 1, kernel_size: int = 3, rezero: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.dilation = dilation
        self.kernel_size = kernel_size
        self.rezero = rezero

    def build(self, input_shape):
        channels = input_shape[-1]
        self.conv1 = CausalDilatedConv1D(channels, self.kernel_size, self.dilation, name="conv1")
        self.conv2 = CausalDilatedConv1D(
            channels, self.kernel_size, 2 * self.dilation, name="conv2"
        )
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm1")
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm2")
        for layer in (self.conv1, self.norm1, self.conv2, self.norm2):
            layer.build(input_shape)
        self.rezero_lambda = self.add_weight(
            name="rezero_lambda",
            shape=(),
            initializer="zeros" if self.rezero else "ones",
            trainable=self.rezero,
        )

    def residual(self, inputs):
        """F(E) of Eq. 2."""
        hidden = tf.nn.relu(self.norm1(self.conv1(inputs)))
        return tf.nn.relu(self.norm2(self.conv2(hidden)))

    def call(self, inputs):
        return inputs + self.rezero_lambda * self.residual(inputs)

    def get_config(self):
        return {
            **super().get_config(),
            "dilation": self.dilation,
            "kernel_size": self.kernel_size,
            "rezero": self.rezero,
        }
