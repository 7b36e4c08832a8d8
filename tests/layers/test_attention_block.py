"""The SASRec+ block: causal, padding-masked, the identity when fresh, dropout in training only."""

import numpy as np
import pytest
import tensorflow as tf

from skiprec_tf.layers import SelfAttentionBlock
from skiprec_tf.layers.attention_block import attention_mask

T, D = 7, 8


def _trained_block(**kwargs):
    """A block with random weights and lambda 0.5 (a fresh one is the identity)."""
    block = SelfAttentionBlock(num_heads=2, **kwargs)
    block.build((None, T, D))
    rng = np.random.default_rng(0)
    for weight in block.weights:
        weight.assign(rng.normal(scale=0.5, size=weight.shape).astype("float32"))
    block.rezero_lambda.assign(0.5)
    return block


def _hidden(batch=3, seed=0):
    return tf.constant(np.random.default_rng(seed).normal(size=(batch, T, D)), tf.float32)


def test_a_fresh_block_is_the_identity():
    block = SelfAttentionBlock(num_heads=2)
    x = _hidden()
    np.testing.assert_array_equal(block(x), x)
    assert float(block.rezero_lambda) == 0.0 and block.rezero_lambda.trainable


@pytest.mark.parametrize("j", range(T))
def test_no_position_sees_a_later_one(j):
    block = _trained_block()
    x = _hidden()
    changed = tf.tensor_scatter_nd_update(x, [[row, j] for row in range(3)], tf.fill([3, D], 9.0))
    before, after = block(x), block(changed)
    np.testing.assert_array_equal(before[:, :j], after[:, :j])
    assert np.abs(before[:, j:] - after[:, j:]).max() > 1e-3, "position j itself changes"


def test_padding_keys_reach_no_item():
    block = _trained_block()
    x = _hidden(batch=1)
    padding_mask = tf.constant([[True, True, True, False, False, False, False]])
    other_padding = tf.concat([_hidden(batch=1, seed=5)[:, :3], x[:, 3:]], axis=1)
    np.testing.assert_allclose(
        block(x, padding_mask=padding_mask)[:, 3:],
        block(other_padding, padding_mask=padding_mask)[:, 3:],
        atol=1e-6,
    )


def test_the_mask_is_causal_and_never_empty():
    padding = tf.constant([[True, True, False, False], [False, False, False, False]])
    mask = attention_mask(padding).numpy()[:, 0]
    assert mask.shape == (2, 4, 4) and mask.any(axis=-1).all(), "every query sees a key"
    assert not np.triu(mask[1], k=1).any(), "no later key"
    np.testing.assert_array_equal(mask[0, 1], [False, True, False, False])  # padding: itself
    np.testing.assert_array_equal(mask[0, 3], [False, False, True, True])  # items: items only


def test_dropout_acts_in_training_only():
    block = _trained_block(dropout=0.3)
    x = _hidden()
    np.testing.assert_array_equal(block(x), block(x, training=False))
    assert np.abs(block(x, training=True) - block(x, training=True)).max() > 1e-3
    plain = _trained_block()
    np.testing.assert_allclose(plain(x, training=True), plain(x), atol=1e-6)
    assert plain.sublayer_dropout is None


def test_width_must_divide_into_heads():
    with pytest.raises(ValueError, match="multiple of num_heads"):
        SelfAttentionBlock(num_heads=3).build((None, T, D))


def test_rebuilt_from_its_config():
    block = SelfAttentionBlock(num_heads=4, rezero=False, dropout=0.1, name="b")
    config = block.get_config()
    assert SelfAttentionBlock.from_config(config).get_config() == config
    block.build((None, T, D))
    assert float(block.rezero_lambda) == 1.0 and not block.rezero_lambda.trainable


def _reference_block(x, w, mask, num_heads):
    """The block straight from its formula (`attention_block`'s docstring), with einsum."""

    def norm(h, gamma, beta):
        mean, variance = tf.nn.moments(h, axes=[-1], keepdims=True)
        return (h - mean) / tf.sqrt(variance + 1e-5) * gamma + beta

    def split(h):  # [batch, heads, t, head_dim]
        return tf.transpose(tf.reshape(h, [*h.shape[:2], num_heads, -1]), [0, 2, 1, 3])

    y = norm(x, w.norm1_gamma, w.norm1_beta)
    q, k, v = (split(tf.einsum("btd,de->bte", y, kernel)) for kernel in w[2:5])
    logits = tf.einsum("bhqe,bhke->bhqk", q, k) / np.sqrt(q.shape[-1])
    weights = tf.nn.softmax(tf.where(mask, logits, -1e9), axis=-1)
    attended = tf.reshape(
        tf.transpose(tf.einsum("bhqk,bhke->bhqe", weights, v), [0, 2, 1, 3]), x.shape
    )
    h = x + w.rezero_lambda * (tf.einsum("btd,de->bte", attended, w.output_kernel) + w.output_bias)
    inner = tf.nn.gelu(
        tf.einsum("btd,de->bte", norm(h, w.norm2_gamma, w.norm2_beta), w.ffn1_kernel) + w.ffn1_bias
    )
    return h + w.rezero_lambda * (tf.einsum("bte,ed->btd", inner, w.ffn2_kernel) + w.ffn2_bias)


@pytest.mark.parametrize("compiled", [False, True])
def test_the_block_and_its_gradients_are_the_formulas(compiled):
    block = _trained_block()
    x = _hidden(batch=4)
    padding_mask = tf.constant([[True] * 2 + [False] * (T - 2)] + [[False] * T] * 3)
    mask = attention_mask(padding_mask)

    def outputs_and_gradients(forward):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = forward()
            loss = tf.reduce_sum(tf.sin(y))
        return y, tape.gradient(loss, [x, *block.trainable_weights])

    def both():
        return (
            outputs_and_gradients(lambda: block(x, padding_mask=padding_mask)),
            outputs_and_gradients(lambda: _reference_block(x, block.block_weights, mask, 2)),
        )

    (y, gradients), (y_ref, gradients_ref) = tf.function(both)() if compiled else both()
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5)
    for gradient, gradient_ref in zip(gradients, gradients_ref, strict=True):
        np.testing.assert_allclose(gradient, gradient_ref, rtol=1e-4, atol=1e-4)
