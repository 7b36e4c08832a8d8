"""SASRec+: SASRec's causal self-attention blocks with NextItNet+'s lambda from 0 (section 5.4)."""

from skiprec_tf.layers import SelfAttentionBlock
from skiprec_tf.models.backbone import ResidualRecommender


def sasrec_backbone(
    input_length: int,
    num_blocks: int,
    num_heads: int = 2,
    rezero: bool = True,
    dropout: float = 0.0,
) -> dict:
    """What makes a `ResidualRecommender` SASRec+ (it, and SkipRec on it): N attention blocks
    (`attention_block`), t - 1 position embeddings and a final layer norm."""
    blocks = tuple(
        SelfAttentionBlock(num_heads, rezero, dropout, name=f"block_{l}") for l in range(num_blocks)
    )
    return {"blocks": blocks, "positions": input_length, "final_norm": True}


class SASRecPlus(ResidualRecommender):
    """SASRec with a learnable residual coefficient from 0 in every block, so that it stacks
    deep (the paper: 128 layers): E_0 = item + position embeddings, E_l = block_l(E_{l-1}),
    scores of LN(E_N) (Eq. 3).

    Args:
      num_items: V.
      input_length: t - 1, the number of learned position embeddings.
      embedding_dim: d, a multiple of `num_heads`.
      num_blocks: N.
      num_heads: attention heads of every block.
      rezero: lambda learnable from 0 (SASRec+) if True, fixed to 1 if False.
      dropout: in training only, the rate of the units dropped from E_0 and from every
        block's sublayer outputs.
      **kwargs: `softmax`, `num_sampled` and Keras arguments, see `SequentialRecommender`.
    """

    def __init__(
        self,
        num_items: int,
        input_length: int,
        embedding_dim: int = 64,
        num_blocks: int = 32,
        num_heads: int = 2,
        rezero: bool = True,
        dropout: float = 0.0,
        **kwargs,
    ):
        backbone = sasrec_backbone(input_length, num_blocks, num_heads, rezero, dropout)
        super().__init__(num_items, embedding_dim, dropout=dropout, **backbone, **kwargs)
