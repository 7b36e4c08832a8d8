"""The NextItNet+ residual block with the ReZero coefficient (Eq. 1-2)."""

from typing import NamedTuple

import keras
import tensorflow as tf

from skiprec_tf.layers.causal_conv import (
    CausalDilatedConv1D,
    causal_dilated_conv,
    seq_len_of,
    tap_positions,
)
from skiprec_tf.layers.dropout import optional_dropout
from skiprec_tf.xla_context import tracing_under_xla

EPSILON = 1e-5  # of both layer norms


class BlockWeights(NamedTuple):
    """The weights of one block: psi_1, LN_1, psi_2, LN_2 (Eq. 2) and lambda (Eq. 1)."""

    conv1_kernel: tf.Tensor
    conv1_bias: tf.Tensor
    norm1_gamma: tf.Tensor
    norm1_beta: tf.Tensor
    conv2_kernel: tf.Tensor
    conv2_bias: tf.Tensor
    norm2_gamma: tf.Tensor
    norm2_beta: tf.Tensor
    rezero_lambda: tf.Tensor


def block_taps(seq_len, dilation: int, kernel_size: int):
    """The tap positions (`tap_positions`) of a block's psi_1 and psi_2, dilations r and 2r."""
    return (
        tap_positions(seq_len, kernel_size, dilation),
        tap_positions(seq_len, kernel_size, 2 * dilation),
    )


def residual_branch(inputs, weights: BlockWeights, taps, training=False):
    """F(E) = ReLU(LN_2(psi_2(ReLU(LN_1(psi_1(E)))))) (Eq. 2) of explicit weights, psi_1 and psi_2
    causal convolutions with dilations r and 2r, their taps at `taps` (`block_taps`); in
    `training` with the taps' own gradient (`causal_conv.gather_taps`), the same values."""
    psi_1 = weights.conv1_kernel, weights.conv1_bias
    psi_2 = weights.conv2_kernel, weights.conv2_bias
    hidden = causal_dilated_conv(inputs, *psi_1, taps[0], training)
    hidden = tf.nn.relu(layer_norm(hidden, weights.norm1_gamma, weights.norm1_beta))
    hidden = causal_dilated_conv(hidden, *psi_2, taps[1], training)
    return tf.nn.relu(layer_norm(hidden, weights.norm2_gamma, weights.norm2_beta))


@tf.function(autograph=False)
def traced_residual_branch(
    inputs, weights: BlockWeights, dilation: int, kernel_size: int, training: bool = False
):
    """`residual_branch` as one TensorFlow function per dilation and input shape, which every
    block of a stack calls with its own weights (read outside: their gradients flow through
    the reads).

    A training step built from the blocks' ops inline traces N blocks and their gradients op
    by op; through this function TensorFlow traces the branch, and its gradient, once per
    distinct (dilation, shape, training): start-up, not arithmetic (the same ops run, the same
    values). Not under XLA (`tracing_under_xla`).
    """
    taps = block_taps(seq_len_of(inputs), dilation, kernel_size)
    return residual_branch(inputs, weights, taps, training)


def nextitnet_block(inputs, weights: BlockWeights, taps):
    """E_l = lambda * F(E_{l-1}) + E_{l-1} (Eq. 1) of explicit weights (`residual_branch`).

    The one implementation of the block at inference: the Keras layer and the stacked serving
    weights (`serving.StackedBlocks`) call it. Input and output shape `[batch, seq_len, channels]`.
    """
    return inputs + weights.rezero_lambda * residual_branch(inputs, weights, taps)


def add_rezero_lambda(layer: keras.layers.Layer, rezero: bool):
    """lambda of Eq. 1 as a weight of `layer`: learnable from 0 (ReZero, so that a fresh block is
    the identity) if `rezero`, else fixed to 1."""
    return layer.add_weight(
        name="rezero_lambda",
        shape=(),
        initializer="zeros" if rezero else "ones",
        trainable=rezero,
    )


def layer_norm(inputs, gamma, beta):
    """Layer normalisation over the last axis, as Keras' `LayerNormalization(epsilon=1e-5)`."""
    mean, variance = tf.nn.moments(inputs, axes=[-1], keepdims=True)
    return (inputs - mean) * tf.math.rsqrt(variance + EPSILON) * gamma + beta


class NextItNetBlock(keras.layers.Layer):
    """The layer holding the weights of `nextitnet_block` (Eq. 1-2).

    lambda is a learnable scalar initialised to 0 (ReZero, NextItNet+), so a fresh block is the
    identity; with `rezero=False` it is fixed to 1 (plain NextItNet). In training, dropout (beyond
    the paper) may drop units of F(E) before the residual sum; inference never drops.

    Args:
      dilation: r, the dilation of the first convolution.
      kernel_size: width of both convolutions.
      rezero: learnable lambda from 0 (True) or fixed lambda = 1 (False).
      dropout: the rate of F(E)'s units dropped in training.

    `call(inputs, padding_mask=None)`: input and output shape `[batch, seq_len, channels]`.
    """

    def __init__(
        self,
        dilation: int = 1,
        kernel_size: int = 3,
        rezero: bool = True,
        dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.dilation = dilation
        self.kernel_size = kernel_size
        self.rezero = rezero
        self.dropout = dropout
        self.branch_dropout = optional_dropout(dropout)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.conv1 = CausalDilatedConv1D(channels, self.kernel_size, self.dilation, name="conv1")
        self.conv2 = CausalDilatedConv1D(
            channels, self.kernel_size, 2 * self.dilation, name="conv2"
        )
        # Holders of gamma and beta (`layer_norm` computes with them), which keep the names and
        # layout of the checkpoints written before.
        self.norm1 = keras.layers.LayerNormalization(epsilon=EPSILON, name="norm1")
        self.norm2 = keras.layers.LayerNormalization(epsilon=EPSILON, name="norm2")
        for layer in (self.conv1, self.norm1, self.conv2, self.norm2):
            layer.build(input_shape)
        self.rezero_lambda = add_rezero_lambda(self, self.rezero)

    @property
    def block_weights(self) -> BlockWeights:
        return BlockWeights(
            self.conv1.kernel, self.conv1.bias, self.norm1.gamma, self.norm1.beta,
            self.conv2.kernel, self.conv2.bias, self.norm2.gamma, self.norm2.beta,
            self.rezero_lambda,
        )  # fmt: skip

    def call(self, inputs, padding_mask=None, training=False):
        # padding_mask is the blocks' common argument (SelfAttentionBlock masks padding keys);
        # the convolutions see padding as the padding item's embedding, as the paper's.
        del padding_mask
        weights = BlockWeights(*map(tf.convert_to_tensor, self.block_weights))
        if tracing_under_xla():
            taps = block_taps(seq_len_of(inputs), self.dilation, self.kernel_size)
            branch = residual_branch(inputs, weights, taps)
        else:
            branch = traced_residual_branch(
                inputs, weights, self.dilation, self.kernel_size, training=bool(training)
            )
        if training and self.branch_dropout:
            branch = self.branch_dropout(branch, training=True)
        return inputs + weights.rezero_lambda * branch

    def get_config(self):
        return {
            **super().get_config(),
            "dilation": self.dilation,
            "kernel_size": self.kernel_size,
            "rezero": self.rezero,
            "dropout": self.dropout,
        }
