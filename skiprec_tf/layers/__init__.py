"""Keras layers of the backbones (NextItNet+, SASRec+), the SkipRec policies and the Table 2
baselines (Caser, NFM)."""

from skiprec_tf.layers.attention_block import SelfAttentionBlock
from skiprec_tf.layers.bi_interaction import BiInteractionPooling
from skiprec_tf.layers.caser_convolutions import CaserConvolutions
from skiprec_tf.layers.causal_conv import CausalDilatedConv1D
from skiprec_tf.layers.residual_block import NextItNetBlock
from skiprec_tf.layers.tied_output import TiedOutput

__all__ = [
    "BiInteractionPooling",
    "CaserConvolutions",
    "CausalDilatedConv1D",
    "NextItNetBlock",
    "SelfAttentionBlock",
    "TiedOutput",
]
