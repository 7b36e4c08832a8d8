"""The SASRec+ residual block: causal self-attention and a feed-forward network, one ReZero
coefficient from 0 (paper section 5.4)."""

import functools
from typing import NamedTuple

import keras
import tensorflow as tf

from skiprec_tf.layers.dropout import optional_dropout
from skiprec_tf.layers.residual_block import add_rezero_lambda, layer_norm

FFN_EXPANSION = 4  # the feed-forward network's inner width is 4 d (the Transformer's)
MASKED = -1e9  # the attention logit of a key a query may not see


class AttentionWeights(NamedTuple):
    """The weights of one block: LN_1, the attention's W_Q, W_K, W_V, W_O, LN_2, the
    feed-forward network's two layers, and lambda."""

    norm1_gamma: tf.Tensor
    norm1_beta: tf.Tensor
    query_kernel: tf.Tensor
    key_kernel: tf.Tensor
    value_kernel: tf.Tensor
    output_kernel: tf.Tensor
    output_bias: tf.Tensor
    norm2_gamma: tf.Tensor
    norm2_beta: tf.Tensor
    ffn1_kernel: tf.Tensor
    ffn1_bias: tf.Tensor
    ffn2_kernel: tf.Tensor
    ffn2_bias: tf.Tensor
    rezero_lambda: tf.Tensor


def attention_mask(padding_mask):
    """`[batch, 1, seq_len, seq_len]` True where query i may attend to key j: j <= i (causal)
    and key j is an item, or j = i (a padding query attends to itself alone, so that no row of
    the softmax is empty and no padding reaches an item).

    Args:
      padding_mask: `[batch, seq_len]` True at padding positions.
    """
    seq_len = tf.shape(padding_mask)[1]
    causal = tf.linalg.band_part(tf.ones([seq_len, seq_len], tf.bool), -1, 0)
    diagonal = tf.eye(seq_len, dtype=tf.bool)
    visible_keys = tf.logical_not(padding_mask)[:, None, None, :]
    return causal & (visible_keys | diagonal)


def self_attention(inputs, weights: AttentionWeights, mask, num_heads: int):
    """Multi-head scaled dot-product self-attention of `inputs` `[batch, seq_len, d]` under
    `mask` (`attention_mask`), then W_O."""
    batch, seq_len = tf.shape(inputs)[0], tf.shape(inputs)[1]
    channels = inputs.shape[-1]
    head_dim = channels // num_heads

    def heads(kernel):  # [batch, heads, seq_len, head_dim]
        projected = tf.reshape(dense(inputs, kernel), [batch, seq_len, num_heads, head_dim])
        return tf.transpose(projected, [0, 2, 1, 3])

    query, key, value = (
        heads(k) for k in (weights.query_kernel, weights.key_kernel, weights.value_kernel)
    )
    logits = tf.matmul(query, key, transpose_b=True) / tf.sqrt(float(head_dim))
    logits = tf.where(mask, logits, MASKED)
    attended = tf.matmul(tf.nn.softmax(logits, axis=-1), value)
    attended = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [batch, seq_len, channels])
    return dense(attended, weights.output_kernel, weights.output_bias)


def feed_forward(inputs, weights: AttentionWeights):
    """FFN(H) = W_2 GELU(W_1 H + b_1) + b_2 at every position, on the positions as rows of one
    matrix (`dense`): there grappler fuses MatMul + BiasAdd + GELU into one oneDNN op when no
    gradient is taken (1.3x faster SASRec+ blocks served at batch 256, docs/results.md)."""
    rows = tf.reshape(inputs, [-1, inputs.shape[-1]])
    hidden = tf.nn.gelu(tf.nn.bias_add(tf.matmul(rows, weights.ffn1_kernel), weights.ffn1_bias))
    outputs = tf.nn.bias_add(tf.matmul(hidden, weights.ffn2_kernel), weights.ffn2_bias)
    return tf.reshape(outputs, tf.shape(inputs))


def dense(inputs, kernel, bias=None):
    """`inputs @ kernel (+ bias)` at every position of `[batch, seq_len, d]` inputs, as one 2-D
    MatMul (+ BiasAdd) over the positions as rows. A batched matmul by the kernel would take
    the kernel's gradient as one `[d, d']` product per sequence and sum them: SASRec+'s block
    trained 1.5x slower at batch 256."""
    rows = tf.matmul(tf.reshape(inputs, [-1, inputs.shape[-1]]), kernel)
    if bias is not None:
        rows = tf.nn.bias_add(rows, bias)
    return tf.reshape(rows, tf.concat([tf.shape(inputs)[:-1], [kernel.shape[-1]]], axis=0))


def attention_block(inputs, weights: AttentionWeights, mask, num_heads: int, dropout=None):
    """E_l from E_{l-1} (Eq. 1 with a Transformer block as F): two pre-norm sublayers, each
    scaled by the block's lambda,

        H   = E_{l-1} + lambda * Attention(LN_1(E_{l-1}))
        E_l = H + lambda * FFN(LN_2(H)),

    so that a block with lambda = 0 is the identity (ReZero), as NextItNet+'s.

    The one implementation of the block: the Keras layer and the stacked serving weights call
    it. `dropout`, a callable or None, drops units of each sublayer's output (training only).
    Input and output shape `[batch, seq_len, d]`; `mask` from `attention_mask`.
    """
    drop = dropout or (lambda x: x)
    attended = self_attention(
        layer_norm(inputs, weights.norm1_gamma, weights.norm1_beta), weights, mask, num_heads
    )
    hidden = inputs + weights.rezero_lambda * drop(attended)
    transformed = feed_forward(layer_norm(hidden, weights.norm2_gamma, weights.norm2_beta), weights)
    return hidden + weights.rezero_lambda * drop(transformed)


class SelfAttentionBlock(keras.layers.Layer):
    """The layer holding the weights of `attention_block` (SASRec+, section 5.4).

    lambda is a learnable scalar initialised to 0, so a fresh block is the identity and the
    blocks stack deep; with `rezero=False` it is fixed to 1 (a plain pre-norm Transformer).

    Args:
      num_heads: attention heads; d must be a multiple of it.
      rezero: learnable lambda from 0 (True) or fixed lambda = 1 (False).
      dropout: the rate of the sublayers' output units dropped in training.

    `call(inputs, padding_mask)`: inputs `[batch, seq_len, d]`, padding_mask `[batch, seq_len]`
    True at padding; output `[batch, seq_len, d]`. Position i never sees a position after it.
    """

    def __init__(self, num_heads: int = 2, rezero: bool = True, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.rezero = rezero
        self.dropout = dropout
        self.sublayer_dropout = optional_dropout(dropout)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels % self.num_heads:
            raise ValueError(f"d = {channels} is not a multiple of num_heads = {self.num_heads}")
        inner = FFN_EXPANSION * channels

        def weight(name, shape, initializer="glorot_uniform"):
            return self.add_weight(name=name, shape=shape, initializer=initializer)

        self.norm1_gamma = weight("norm1_gamma", (channels,), "ones")
        self.norm1_beta = weight("norm1_beta", (channels,), "zeros")
        self.query_kernel = weight("query_kernel", (channels, channels))
        self.key_kernel = weight("key_kernel", (channels, channels))
        self.value_kernel = weight("value_kernel", (channels, channels))
        self.output_kernel = weight("output_kernel", (channels, channels))
        self.output_bias = weight("output_bias", (channels,), "zeros")
        self.norm2_gamma = weight("norm2_gamma", (channels,), "ones")
        self.norm2_beta = weight("norm2_beta", (channels,), "zeros")
        self.ffn1_kernel = weight("ffn1_kernel", (channels, inner))
        self.ffn1_bias = weight("ffn1_bias", (inner,), "zeros")
        self.ffn2_kernel = weight("ffn2_kernel", (inner, channels))
        self.ffn2_bias = weight("ffn2_bias", (channels,), "zeros")
        self.rezero_lambda = add_rezero_lambda(self, self.rezero)

    @property
    def block_weights(self) -> AttentionWeights:
        return AttentionWeights(*(getattr(self, name) for name in AttentionWeights._fields))

    def call(self, inputs, padding_mask=None, training=False):
        if padding_mask is None:
            padding_mask = tf.zeros(tf.shape(inputs)[:2], tf.bool)
        dropout = None
        if training and self.sublayer_dropout:
            dropout = functools.partial(self.sublayer_dropout, training=True)
        return attention_block(
            inputs, self.block_weights, attention_mask(padding_mask), self.num_heads, dropout
        )

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "rezero": self.rezero,
            "dropout": self.dropout,
        }
