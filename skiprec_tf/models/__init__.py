"""Keras models: the NextItNet+ backbone, the policy networks and SkipRec."""

from skiprec_tf.models.base import SequentialRecommender
from skiprec_tf.models.factory import build_recommender
from skiprec_tf.models.nextitnet import NextItNetPlus
from skiprec_tf.models.policy import CNNPolicy, GRUPolicy, PolicyNetwork, RandomPolicy
from skiprec_tf.models.skiprec import SkipRec
from skiprec_tf.models.skiprec_gumbel import SkipRecGumbel
from skiprec_tf.models.skiprec_rl import SkipRecRL

__all__ = [
    "CNNPolicy",
    "GRUPolicy",
    "NextItNetPlus",
    "PolicyNetwork",
    "RandomPolicy",
    "SequentialRecommender",
    "SkipRec",
    "SkipRecGumbel",
    "SkipRecRL",
    "build_recommender",
]
