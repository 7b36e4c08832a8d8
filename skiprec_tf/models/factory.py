"""Builds the model a `ModelConfig` and a `PolicyConfig` describe."""

from skiprec_tf.config import ModelConfig, PolicyConfig
from skiprec_tf.models.caser import Caser
from skiprec_tf.models.gru4rec import GRU4Rec
from skiprec_tf.models.nextitnet import NextItNet, NextItNetPlus, nextitnet_blocks
from skiprec_tf.models.nfm import NFM
from skiprec_tf.models.policy import POLICIES
from skiprec_tf.models.sasrec import SASRecPlus, sasrec_backbone
from skiprec_tf.models.skiprec_gumbel import SkipRecGumbel
from skiprec_tf.models.skiprec_rl import SkipRecRL


def build_recommender(
    model: ModelConfig, policy: PolicyConfig, num_items: int, input_length: int, seed: int = 0
):
    """NextItNet+ or SASRec+ alone, a Table 2 baseline, or the SkipRec of `model.model` (Gumbel
    or RL) on the `model.backbone` with the policy network `policy.policy`; with the random
    policy the model is named `skiprec_random`. `input_length` is t - 1 (SASRec+'s position
    embeddings)."""
    common = {
        "embedding_dim": model.embedding_dim,
        "dropout": model.dropout,
        "softmax": model.softmax,
        "num_sampled": model.num_sampled,
        "tied_embeddings": model.tied_embeddings,
    }
    convolutions = {"dilations": model.dilations, "kernel_size": model.kernel_size}
    if model.model == "nextitnet_plus":
        return NextItNetPlus(
            num_items, rezero=model.rezero, name=model.model, **convolutions, **common
        )
    if model.model == "nextitnet":  # lambda fixed at 1
        return NextItNet(num_items, name=model.model, **convolutions, **common)
    if model.model == "gru4rec":
        return GRU4Rec(num_items, num_layers=model.gru_layers, name=model.model, **common)
    if model.model == "caser":
        return Caser(
            num_items,
            window=model.caser_window,
            horizontal_filters=model.caser_horizontal_filters,
            vertical_filters=model.caser_vertical_filters,
            name=model.model,
            **common,
        )
    if model.model == "nfm":
        return NFM(num_items, name=model.model, **common)
    if model.model == "sasrec_plus":
        return SASRecPlus(
            num_items,
            input_length,
            num_blocks=model.num_blocks,
            num_heads=model.num_heads,
            rezero=model.rezero,
            name=model.model,
            **common,
        )
    if model.backbone == "sasrec_plus":
        backbone = sasrec_backbone(
            input_length, model.num_blocks, model.num_heads, model.rezero, model.dropout
        )
    else:
        backbone = {
            "blocks": nextitnet_blocks(
                model.dilations, model.kernel_size, model.rezero, model.dropout
            )
        }
    policy_arguments = {"input_length": input_length} if policy.policy == "attention" else {}
    policy_network = POLICIES[policy.policy](
        num_items,
        model.num_blocks,
        model.embedding_dim,
        name=f"{policy.policy}_policy",
        **policy_arguments,
    )
    skiprec = dict(
        policy=policy_network,
        target_usage=policy.target_usage,
        usage_weight=policy.usage_weight,
        seed=seed,
        per_example_noise=policy.per_example_noise,
        skip_in_training=policy.skip_in_training,
        **backbone,
        **common,
    )
    name = "skiprec_random" if policy.policy == "random" else model.model
    if model.model == "skiprec_gumbel":
        return SkipRecGumbel(num_items, temperature=policy.temperature, name=name, **skiprec)
    return SkipRecRL(
        num_items,
        gamma=policy.gamma,
        beta=policy.beta,
        reward_top_k=policy.reward_top_k,
        reward=policy.reward,
        normalize_advantage=policy.normalize_advantage,
        entropy_weight=policy.entropy_weight,
        policy_samples=policy.policy_samples,
        greedy_ce_weight=policy.greedy_ce_weight,
        name=name,
        **skiprec,
    )
