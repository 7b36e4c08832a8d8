"""Policy networks: from a user's sequence to retain/skip logits for every backbone block (3.4)."""

import keras
import tensorflow as tf

from skiprec_tf.layers import NextItNetBlock, SelfAttentionBlock
from skiprec_tf.models.backbone import embed_items

SKIP, RETAIN = 0, 1


def greedy_retain(logits):
    """The greedy policy: 1.0 where a block's retain logit wins its argmax, else 0.0 `[batch, N]`."""
    return tf.cast(tf.argmax(logits, axis=-1) == RETAIN, tf.float32)


class PolicyNetwork(keras.layers.Layer):
    """Base of the policies: item ids `[batch, seq_len]` -> logits `[batch, N, 2]` (skip, retain).

    All N decisions are made at once from the whole sequence (the paper, after BlockDrop).
    `deterministic` policies act greedily (argmax) at inference; the others sample.

    Args:
      num_items: V.
      num_blocks: N, the blocks of the backbone to decide on.
      embedding_dim: d of the policy's own item embedding (two-stage training copies the
        backbone's into it, so it equals the backbone's d there).
    """

    deterministic = True

    def __init__(self, num_items: int, num_blocks: int, embedding_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.num_items = num_items
        self.num_blocks = num_blocks
        self.embedding_dim = embedding_dim

    def get_config(self):
        return {
            **super().get_config(),
            "num_items": self.num_items,
            "num_blocks": self.num_blocks,
            "embedding_dim": self.embedding_dim,
        }


class CNNPolicy(PolicyNetwork):
    """The paper's policy: a lightweight NextItNet (2 blocks, dilations {1, 2, 4, 8}), mean-pooled
    over the non-padding positions, then a dense layer to N x 2 logits."""

    def __init__(self, num_items, num_blocks, embedding_dim, block_dilations=(1, 4), **kwargs):
        super().__init__(num_items, num_blocks, embedding_dim, **kwargs)
        self.block_dilations = tuple(block_dilations)
        self.item_embedding = keras.layers.Embedding(
            num_items + 1, embedding_dim, name="item_embedding"
        )
        self.residual_blocks = tuple(  # a tuple: see NextItNetPlus
            NextItNetBlock(r, name=f"policy_block_{i}") for i, r in enumerate(self.block_dilations)
        )
        self.logits = keras.layers.Dense(2 * num_blocks, name="block_logits")

    def call(self, inputs):
        hidden = self.item_embedding(inputs)
        for block in self.residual_blocks:
            hidden = block(hidden)
        return tf.reshape(self.logits(mean_over_items(hidden, inputs)), [-1, self.num_blocks, 2])

    def get_config(self):
        return {**super().get_config(), "block_dilations": self.block_dilations}


class AttentionPolicy(PolicyNetwork):
    """The policy of SASRec+ (section 5.4): one standard self-attention block over item and
    position embeddings, mean-pooled over the non-padding positions, then a dense layer to
    N x 2 logits.

    Args:
      input_length: t - 1, the number of position embeddings.
      num_heads: attention heads of the block.
    """

    def __init__(
        self, num_items, num_blocks, embedding_dim, input_length: int, num_heads=2, **kwargs
    ):
        super().__init__(num_items, num_blocks, embedding_dim, **kwargs)
        self.input_length = input_length
        self.num_heads = num_heads
        self.item_embedding = keras.layers.Embedding(
            num_items + 1, embedding_dim, name="item_embedding"
        )
        self.position_embedding = keras.layers.Embedding(
            input_length, embedding_dim, name="position_embedding"
        )
        self.block = SelfAttentionBlock(num_heads, rezero=False, name="policy_block")
        self.logits = keras.layers.Dense(2 * num_blocks, name="block_logits")

    def call(self, inputs):
        hidden = embed_items(self.item_embedding, self.position_embedding, inputs)
        hidden = self.block(hidden, padding_mask=inputs == 0)
        return tf.reshape(self.logits(mean_over_items(hidden, inputs)), [-1, self.num_blocks, 2])

    def get_config(self):
        return {
            **super().get_config(),
            "input_length": self.input_length,
            "num_heads": self.num_heads,
        }


def mean_over_items(hidden, inputs):
    """The mean of `hidden` `[batch, seq_len, d]` over the positions whose input is an item."""
    mask = tf.cast(inputs != 0, hidden.dtype)[..., None]
    return tf.reduce_sum(hidden * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)


class GRUPolicy(PolicyNetwork):
    """A GRU over the sequence; its last state goes through a dense layer to N x 2 logits (Table 4)."""

    def __init__(self, num_items, num_blocks, embedding_dim, **kwargs):
        super().__init__(num_items, num_blocks, embedding_dim, **kwargs)
        self.item_embedding = keras.layers.Embedding(
            num_items + 1, embedding_dim, name="item_embedding"
        )
        self.gru = keras.layers.GRU(embedding_dim, name="gru")
        self.logits = keras.layers.Dense(2 * num_blocks, name="block_logits")

    def call(self, inputs):
        # Left padding comes first, so the last state has read every real item.
        return tf.reshape(
            self.logits(self.gru(self.item_embedding(inputs))), [-1, self.num_blocks, 2]
        )


class RandomPolicy(PolicyNetwork):
    """Retains every block with probability 0.5, for every user, at training and at inference
    (the ablation of Table 3), whatever the training method. Has no weights.

    Its logits are all zero: `SkipRecRL` samples them (a fair coin per block, one seed per step)
    and trains the backbone on L_CE alone; `SkipRecGumbel`'s straight-through sample of zero
    logits is a fair coin per block too, the same distribution from another random stream.
    """

    deterministic = False

    def call(self, inputs):
        return tf.zeros([tf.shape(inputs)[0], self.num_blocks, 2])


POLICIES = {
    "cnn": CNNPolicy,
    "gru": GRUPolicy,
    "attention": AttentionPolicy,
    "random": RandomPolicy,
}
