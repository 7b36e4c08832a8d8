"""NextItNet+: item embedding, N causal dilated residual blocks, softmax (paper section 3.3)."""

from collections.abc import Sequence

from skiprec_tf.layers import NextItNetBlock
from skiprec_tf.models.backbone import ResidualRecommender


def nextitnet_blocks(
    dilations: Sequence[int], kernel_size: int = 3, rezero: bool = True, dropout: float = 0.0
):
    """NextItNet+'s blocks (Eq. 1-2), one per dilation r (its convolutions use r and 2r)."""
    return tuple(
        NextItNetBlock(r, kernel_size, rezero, dropout, name=f"block_{l}")
        for l, r in enumerate(dilations)
    )


class NextItNetPlus(ResidualRecommender):
    """The backbone of SkipRec: E_0 = embedding(x), E_l = block_l(E_{l-1}) (Eq. 1-2), then Eq. 3.

    Args:
      num_items: V.
      embedding_dim: d.
      dilations: the dilation r of each block (a block's convolutions use r and 2r); its
        length is the number of blocks N.
      kernel_size: width of the causal convolutions.
      rezero: NextItNet+ (lambda from 0) if True, plain NextItNet (lambda = 1) if False.
      dropout: in training only, the rate of the units dropped from the item embeddings and
        from every block's F(E) (beyond the paper: NextItNet+ over-fits small data sets).
      **kwargs: `softmax`, `num_sampled` and Keras arguments, see `SequentialRecommender`.

    Input `[batch, seq_len]` item ids (0 = padding, left-padded); `encode` returns
    `[batch, seq_len, d]`, `call` the scores `[batch, V + 1]` of the next item.
    """

    def __init__(
        self,
        num_items: int,
        embedding_dim: int = 256,
        dilations: Sequence[int] = (1, 4) * 16,
        kernel_size: int = 3,
        rezero: bool = True,
        dropout: float = 0.0,
        **kwargs,
    ):
        blocks = nextitnet_blocks(dilations, kernel_size, rezero, dropout)
        super().__init__(num_items, embedding_dim, blocks, dropout=dropout, **kwargs)


class NextItNet(NextItNetPlus):
    """Plain NextItNet (Yuan et al. 2019), the paper's Table 2 baseline: NextItNet+'s blocks with
    the residual E + F(E) (lambda = 1, not learned). Arguments as `NextItNetPlus`'s, but `rezero`."""

    def __init__(self, num_items: int, **kwargs):
        super().__init__(num_items, rezero=False, **kwargs)
