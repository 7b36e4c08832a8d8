"""build_recommender: the model class of --model, the policy network of --policy, the run's name."""

import pytest

from skiprec_tf.config import ModelConfig, PolicyConfig
from skiprec_tf.layers import NextItNetBlock, SelfAttentionBlock
from skiprec_tf.models import (
    AttentionPolicy,
    CNNPolicy,
    GRUPolicy,
    NextItNetPlus,
    RandomPolicy,
    SASRecPlus,
    SkipRecGumbel,
    SkipRecRL,
    build_recommender,
)

BACKBONE = {"embedding_dim": 8, "num_blocks": 4}
T = 6  # the input length t - 1


@pytest.mark.parametrize(
    "model, policy, cls, policy_cls, name",
    [
        ("skiprec_rl", "cnn", SkipRecRL, CNNPolicy, "skiprec_rl"),
        ("skiprec_gumbel", "gru", SkipRecGumbel, GRUPolicy, "skiprec_gumbel"),
        # The random policy is a policy network of either trainer, named apart in the results.
        ("skiprec_rl", "random", SkipRecRL, RandomPolicy, "skiprec_random"),
        ("skiprec_gumbel", "random", SkipRecGumbel, RandomPolicy, "skiprec_random"),
    ],
)
def test_skiprec_of_the_model_with_the_policy(model, policy, cls, policy_cls, name):
    recommender = build_recommender(
        ModelConfig(model=model, **BACKBONE), PolicyConfig(policy=policy), 30, T
    )
    assert type(recommender) is cls
    assert type(recommender.policy) is policy_cls
    assert recommender.name == name
    assert (recommender.policy.num_items, recommender.policy.num_blocks) == (30, 4)


def test_nextitnet_plus_has_no_policy():
    recommender = build_recommender(
        ModelConfig(model="nextitnet_plus", **BACKBONE), PolicyConfig(policy="random"), 30, T
    )
    assert type(recommender) is NextItNetPlus and recommender.name == "nextitnet_plus"
    assert not hasattr(recommender, "policy")


def test_sasrec_plus_alone_and_as_skiprec_backbone():
    sasrec = build_recommender(ModelConfig(model="sasrec_plus", **BACKBONE), PolicyConfig(), 30, T)
    assert type(sasrec) is SASRecPlus and sasrec.name == "sasrec_plus"
    assert sasrec.position_embedding.input_dim == T and sasrec.final_norm is not None
    skiprec = build_recommender(
        ModelConfig(model="skiprec_gumbel", backbone="sasrec_plus", **BACKBONE),
        PolicyConfig(policy="attention"),
        30,
        T,
    )
    assert type(skiprec) is SkipRecGumbel and type(skiprec.policy) is AttentionPolicy
    assert all(type(block) is SelfAttentionBlock for block in skiprec.residual_blocks)
    assert skiprec.position_embedding.input_dim == T and skiprec.final_norm is not None
    nextitnet = build_recommender(
        ModelConfig(model="skiprec_rl", **BACKBONE), PolicyConfig(), 30, T
    )
    assert all(type(block) is NextItNetBlock for block in nextitnet.residual_blocks)
    assert nextitnet.position_embedding is None and nextitnet.final_norm is None


def test_the_configs_reach_the_model():
    model = ModelConfig(
        model="skiprec_rl", block_dilations=(1, 2), kernel_size=2, softmax="sampled", **BACKBONE
    )
    policy = PolicyConfig(
        gamma=0.5,
        beta=2.0,
        reward_top_k=3,
        target_usage=0.4,
        usage_weight=3.0,
        greedy_ce_weight=0.5,
    )
    recommender = build_recommender(model, policy, 30, T)
    blocks = recommender.residual_blocks
    assert [b.dilation for b in blocks] == [1, 2, 1, 2] and blocks[0].kernel_size == 2
    assert (recommender.embedding_dim, recommender.softmax) == (8, "sampled")
    assert (recommender.gamma, recommender.beta, recommender.reward_top_k) == (0.5, 2.0, 3)
    assert (recommender.target_usage, recommender.usage_weight) == (0.4, 3.0)
    assert recommender.greedy_ce_weight == 0.5
    gumbel = build_recommender(
        ModelConfig(model="skiprec_gumbel", **BACKBONE), PolicyConfig(temperature=2.5), 30, T
    )
    assert gumbel.temperature == 2.5
