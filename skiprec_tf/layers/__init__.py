"""Keras layers of the backbones (NextItNet+, SASRec+) and the SkipRec policies."""

from skiprec_tf.layers.attention_block import SelfAttentionBlock
from skiprec_tf.layers.causal_conv import CausalDilatedConv1D
from skiprec_tf.layers.residual_block import NextItNetBlock
from skiprec_tf.layers.tied_output import TiedOutput

__all__ = ["CausalDilatedConv1D", "NextItNetBlock", "SelfAttentionBlock", "TiedOutput"]
