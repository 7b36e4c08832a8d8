"""Multiply-add counts (x2 = FLOPs) of one inference, to turn block usage into ideal speedups."""

from skiprec_tf.config import ModelConfig
from skiprec_tf.layers.attention_block import FFN_EXPANSION


def block_flops(seq_len: int, channels: int, kernel_size: int = 3) -> int:
    """One residual block: two causal convolutions (kernel_size * d -> d at every position),
    plus the two layer norms, ReLUs and the residual sum (about 10 d per position)."""
    convolutions = 2 * (2 * seq_len * kernel_size * channels * channels)
    return convolutions + 10 * seq_len * channels


def attention_block_flops(seq_len: int, channels: int) -> int:
    """One SASRec+ block: W_Q, W_K, W_V, W_O (4 d x d matmuls at every position), the scores
    and the weighted sum (2 seq_len x d per position, every key counted), the feed-forward
    network (d -> 4 d -> d), plus the two layer norms, the activation and the residual sums."""
    projections = 4 * (2 * seq_len * channels * channels)
    attention = 2 * (2 * seq_len * seq_len * channels)
    feed_forward = 2 * (2 * seq_len * channels * FFN_EXPANSION * channels)
    return projections + attention + feed_forward + 10 * seq_len * channels


def backbone_block_flops(backbone: str, seq_len: int, channels: int, kernel_size: int = 3):
    """One block of the `backbone` (`block_flops` or `attention_block_flops`)."""
    if backbone == "sasrec_plus":
        return attention_block_flops(seq_len, channels)
    return block_flops(seq_len, channels, kernel_size)


def policy_flops(policy: str, seq_len: int, channels: int, num_blocks: int) -> int:
    """The policy network: CNN (2 blocks), GRU (3 gates of 2 matmuls), attention (1 block), or
    random (none)."""
    head = 2 * channels * 2 * num_blocks
    if policy == "cnn":
        return 2 * block_flops(seq_len, channels) + head
    if policy == "gru":
        return seq_len * 3 * 2 * (2 * channels * channels) + head
    if policy == "attention":
        return attention_block_flops(seq_len, channels) + head
    return 0


def output_flops(channels: int, num_items: int) -> int:
    """Scores of all items at the last position (Eq. 3)."""
    return 2 * channels * (num_items + 1)


def inference_flops(
    model: ModelConfig, policy: str, seq_len: int, num_items: int, blocks_used: float
):
    """FLOPs of one sequence of `seq_len` inputs with `blocks_used` blocks (all for a backbone)."""
    d = model.embedding_dim
    block = backbone_block_flops(model.backbone, seq_len, d, model.kernel_size)
    total = blocks_used * block + output_flops(d, num_items)
    if model.is_skiprec:
        total += policy_flops(policy, seq_len, d, model.num_blocks)
    return total


def training_step_products(
    rows: int, channels: int, kernel_size: int, num_blocks: int, outputs: int
) -> list:
    """`(m, k, n, transpose_a, transpose_b, count)` of every matrix product of one NextItNet+
    training step over `rows` positions (batch x (t - 1)): per causal convolution its forward,
    its input gradient and its kernel gradient (2 N convolutions), and the same three of the
    output layer over `outputs` ids (`tools/peers/matmul_ceiling.py` times them)."""
    taps = kernel_size * channels
    products = []
    for inner, outer, count in ((taps, channels, 2 * num_blocks), (channels, outputs, 1)):
        products += [
            (rows, inner, outer, False, False, count),  # x @ w
            (rows, outer, inner, False, True, count),  # dy @ w^T
            (inner, rows, outer, True, False, count),  # x^T @ dy
        ]
    return products
