"""GRU4Rec (Hidasi et al. 2016), trained as the paper's Table 2 trains it: every position
predicts the next item, "for fair comparison with NextItNet" (section 4.2)."""

import keras

from skiprec_tf.layers.dropout import optional_dropout
from skiprec_tf.models.base import SequentialRecommender


class GRU4Rec(SequentialRecommender):
    """Item embedding, `num_layers` GRU layers of d units, the softmax of Eq. 3 on each state.

    Left padding is masked: a GRU's state stays zero until a sequence's first item, so a
    padded sequence gets the states of the unpadded one.

    Args:
      num_items: V.
      embedding_dim: d, also the GRU's units.
      num_layers: stacked GRU layers.
      dropout: in training only, the rate of units dropped from the item embeddings and from
        every GRU layer's output (RecBole's GRU4Rec drops the embeddings).
      **kwargs: `softmax`, `num_sampled` and Keras arguments, see `SequentialRecommender`.
    """

    def __init__(
        self,
        num_items: int,
        embedding_dim: int = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(num_items, embedding_dim, **kwargs)
        self.dropout = optional_dropout(dropout)
        self.gru_layers = tuple(
            keras.layers.GRU(embedding_dim, return_sequences=True, name=f"gru_{l}")
            for l in range(num_layers)
        )

    def encode(self, inputs, training=False):
        hidden = self.item_embedding(inputs)
        mask = inputs != 0
        for gru in self.gru_layers:
            if training and self.dropout:
                hidden = self.dropout(hidden, training=True)
            hidden = gru(hidden, mask=mask, training=training)
        return hidden
