"""Keras models: the NextItNet+ backbone (and, built on it, SkipRec)."""

from skiprec_tf.models.base import SequentialRecommender
from skiprec_tf.models.nextitnet import NextItNetPlus, build_nextitnet_plus

__all__ = ["SequentialRecommender", "NextItNetPlus", "build_nextitnet_plus"]
