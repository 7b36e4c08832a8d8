"""Keras models: the NextItNet+ and SASRec+ backbones, the policy networks, SkipRec, and the
baselines of the paper's Table 2 (NextItNet, GRU4Rec, Caser, NFM)."""

from skiprec_tf.models.backbone import ResidualRecommender
from skiprec_tf.models.base import SequentialRecommender
from skiprec_tf.models.caser import Caser
from skiprec_tf.models.factory import build_recommender
from skiprec_tf.models.gru4rec import GRU4Rec
from skiprec_tf.models.nextitnet import NextItNet, NextItNetPlus
from skiprec_tf.models.nfm import NFM
from skiprec_tf.models.policy import (
    AttentionPolicy,
    CNNPolicy,
    GRUPolicy,
    PolicyNetwork,
    RandomPolicy,
)
from skiprec_tf.models.sasrec import SASRecPlus
from skiprec_tf.models.skiprec import SkipRec
from skiprec_tf.models.skiprec_gumbel import SkipRecGumbel
from skiprec_tf.models.skiprec_rl import SkipRecRL

__all__ = [
    "NFM",
    "AttentionPolicy",
    "CNNPolicy",
    "Caser",
    "GRU4Rec",
    "GRUPolicy",
    "NextItNet",
    "NextItNetPlus",
    "PolicyNetwork",
    "RandomPolicy",
    "ResidualRecommender",
    "SASRecPlus",
    "SequentialRecommender",
    "SkipRec",
    "SkipRecGumbel",
    "SkipRecRL",
    "build_recommender",
]
