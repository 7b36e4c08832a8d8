"""Keras layers of the NextItNet+ backbone and the SkipRec policy."""

from skiprec_tf.layers.causal_conv import CausalDilatedConv1D
from skiprec_tf.layers.residual_block import NextItNetBlock

__all__ = ["CausalDilatedConv1D", "NextItNetBlock"]
