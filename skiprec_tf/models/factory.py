"""Builds the model a `ModelConfig` and a `PolicyConfig` describe."""

from skiprec_tf.config import ModelConfig, PolicyConfig
from skiprec_tf.models.nextitnet import NextItNetPlus
from skiprec_tf.models.policy import POLICIES
from skiprec_tf.models.skiprec_gumbel import SkipRecGumbel
from skiprec_tf.models.skiprec_rl import SkipRecRL


def build_recommender(model: ModelConfig, policy: PolicyConfig, num_items: int, seed: int = 0):
    """NextItNet+, or the SkipRec of `model.model` (Gumbel or RL) with the policy network
    `policy.policy`; with the random policy the model is named `skiprec_random`."""
    backbone = {
        "embedding_dim": model.embedding_dim,
        "dilations": model.dilations,
        "kernel_size": model.kernel_size,
        "rezero": model.rezero,
        "dropout": model.dropout,
        "softmax": model.softmax,
        "num_sampled": model.num_sampled,
    }
    if model.model == "nextitnet_plus":
        return NextItNetPlus(num_items, name="nextitnet_plus", **backbone)
    policy_network = POLICIES[policy.policy](
        num_items, model.num_blocks, model.embedding_dim, name=f"{policy.policy}_policy"
    )
    skiprec = dict(
        policy=policy_network,
        target_usage=policy.target_usage,
        usage_weight=policy.usage_weight,
        seed=seed,
        **backbone,
    )
    name = "skiprec_random" if policy.policy == "random" else model.model
    if model.model == "skiprec_gumbel":
        return SkipRecGumbel(num_items, temperature=policy.temperature, name=name, **skiprec)
    return SkipRecRL(
        num_items,
        gamma=policy.gamma,
        beta=policy.beta,
        reward_top_k=policy.reward_top_k,
        name=name,
        **skiprec,
    )
