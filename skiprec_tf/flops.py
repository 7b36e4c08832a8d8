"""Multiply-add counts (x2 = FLOPs) of one inference, to turn block usage into ideal speedups."""

from skiprec_tf.config import ModelConfig


def block_flops(seq_len: int, channels: int, kernel_size: int = 3) -> int:
    """One residual block: two causal convolutions (kernel_size * d -> d at every position),
    plus the two layer norms, ReLUs and the residual sum (about 10 d per position)."""
    convolutions = 2 * (2 * seq_len * kernel_size * channels * channels)
    return convolutions + 10 * seq_len * channels


def policy_flops(policy: str, seq_len: int, channels: int, num_blocks: int) -> int:
    """The policy network: CNN (2 blocks), GRU (3 gates of 2 matmuls), or random (none)."""
    head = 2 * channels * 2 * num_blocks
    if policy == "cnn":
        return 2 * block_flops(seq_len, channels) + head
    if policy == "gru":
        return seq_len * 3 * 2 * (2 * channels * channels) + head
    return 0


def output_flops(channels: int, num_items: int) -> int:
    """Scores of all items at the last position (Eq. 3)."""
    return 2 * channels * (num_items + 1)


def inference_flops(
    model: ModelConfig, policy: str, seq_len: int, num_items: int, blocks_used: float
):
    """FLOPs of one sequence of `seq_len` inputs with `blocks_used` blocks (all for NextItNet+)."""
    d = model.embedding_dim
    total = blocks_used * block_flops(seq_len, d, model.kernel_size) + output_flops(d, num_items)
    if model.model != "nextitnet_plus":
        total += policy_flops(policy, seq_len, d, model.num_blocks)
    return total
