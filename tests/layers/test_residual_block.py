"""Tests of the causal dilated convolution and the NextItNet+ residual block (Eq. 1-2)."""

import inspect

import numpy as np
import pytest
import tensorflow as tf

from skiprec_tf.layers import CausalDilatedConv1D, NextItNetBlock
from skiprec_tf.layers.residual_block import block_taps, nextitnet_block, traced_residual_branch


def _random_block(rezero=True, dilation=2):
    block = NextItNetBlock(dilation=dilation, kernel_size=3, rezero=rezero)
    block.build((None, 12, 8))
    if rezero:
        block.rezero_lambda.assign(0.7)  # a trained, non-identity block
    return block


@pytest.mark.parametrize("layer_fn", [lambda: CausalDilatedConv1D(8, 3, 2), _random_block])
@pytest.mark.parametrize("changed", [0, 5, 11])
def test_is_causal(layer_fn, changed):
    layer = layer_fn()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 12, 8)).astype("float32")
    y = x.copy()
    y[:, changed] += rng.normal(size=(2, 8)).astype("float32")
    out_x, out_y = layer(x).numpy(), layer(y).numpy()
    np.testing.assert_allclose(out_x[:, :changed], out_y[:, :changed], atol=1e-6)
    assert np.abs(out_x[:, changed] - out_y[:, changed]).max() > 1e-4, "position j must see itself"


def test_receptive_field_of_a_block():
    # A block with dilation r looks (k - 1) * (r + 2r) = 6r positions back, and no further.
    block = _random_block(dilation=1)
    x = np.random.default_rng(1).normal(size=(1, 12, 8)).astype("float32")
    y = x.copy()
    y[:, 11 - 7] += 1.0
    np.testing.assert_allclose(block(x)[:, 11], block(y)[:, 11], atol=1e-6)
    y = x.copy()
    y[:, 11 - 6] += 1.0
    assert np.abs(block(x)[:, 11] - block(y)[:, 11]).max() > 1e-4


def test_fresh_rezero_block_is_identity():
    block = NextItNetBlock(dilation=4)
    x = tf.random.normal([4, 10, 16], seed=2)
    np.testing.assert_array_equal(block(x), x)
    assert block.rezero_lambda.trainable


def test_plain_nextitnet_block_is_not_identity():
    block = NextItNetBlock(dilation=1, rezero=False)
    x = tf.random.normal([4, 10, 16], seed=3)
    assert np.abs(block(x) - x).max() > 1e-3
    assert float(block.rezero_lambda) == 1.0 and not block.rezero_lambda.trainable


def test_zero_row_batch():
    block = _random_block()
    assert block(tf.zeros([0, 12, 8])).shape == (0, 12, 8)


def test_invalid_arguments_are_named():
    with pytest.raises(ValueError, match="dilation_rate"):
        CausalDilatedConv1D(4, 3, 0)


def test_block_equals_eq_2_written_with_keras_layers():
    block = _random_block(dilation=2)
    rng = np.random.default_rng(4)
    for layer in (block.norm1, block.norm2):  # non-trivial gamma and beta
        layer.gamma.assign(rng.normal(size=8).astype("float32"))
        layer.beta.assign(rng.normal(size=8).astype("float32"))
    x = tf.constant(rng.normal(size=(3, 12, 8)), tf.float32)
    residual = tf.nn.relu(block.norm1(block.conv1(x)))
    residual = tf.nn.relu(block.norm2(block.conv2(residual)))
    np.testing.assert_allclose(block(x), x + 0.7 * residual, atol=1e-5)


@pytest.mark.parametrize(
    "layer_fn",
    [
        lambda: CausalDilatedConv1D(6, kernel_size=2, dilation_rate=3, name="conv"),
        lambda: NextItNetBlock(dilation=4, kernel_size=2, rezero=False, name="block"),
    ],
    ids=["CausalDilatedConv1D", "NextItNetBlock"],
)
def test_from_config_rebuilds_an_equal_layer(layer_fn):
    layer = layer_fn()
    layer.build((None, 12, 8))
    config = layer.get_config()
    arguments = set(inspect.signature(type(layer).__init__).parameters) - {"self", "kwargs"}
    assert arguments <= set(config), "get_config returns every constructor argument"
    rebuilt = type(layer).from_config(config)
    assert type(rebuilt) is type(layer) and rebuilt.get_config() == config


def test_a_fresh_rezero_block_is_the_identity_with_dropout_in_training():
    block = NextItNetBlock(dilation=1, dropout=0.5)
    x = tf.random.normal([2, 6, 4], seed=2)
    np.testing.assert_array_equal(block(x, training=True), x)


def test_dropout_out_of_range_is_named():
    with pytest.raises(ValueError, match="dropout"):
        NextItNetBlock(dropout=1.0)


def _stack_step(blocks, x, traced: bool):
    """E_N of `blocks` (Eq. 1) and the gradient of its square sum, in one compiled step; the
    branches through the layers (`traced`) or written inline (`nextitnet_block`)."""
    variables = [w for block in blocks for w in block.trainable_weights]

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            hidden = x
            for block in blocks:
                if traced:
                    hidden = block(hidden, training=True)
                else:
                    taps = block_taps(x.shape[1], block.dilation, block.kernel_size)
                    hidden = nextitnet_block(hidden, block.block_weights, taps)
            loss = tf.reduce_sum(tf.square(hidden))
        return hidden, tape.gradient(loss, variables)

    return step()


def test_a_stack_traces_the_branch_once_per_dilation_with_the_inline_values():
    blocks = [NextItNetBlock(dilation=r, name=f"b{l}") for l, r in enumerate((1, 4) * 4)]
    x = tf.random.normal([3, 12, 8], seed=3)
    for block in blocks:
        block.build(x.shape)
        block.rezero_lambda.assign(0.5)
    before = traced_residual_branch.experimental_get_tracing_count()
    hidden, gradients = _stack_step(blocks, x, traced=True)
    assert traced_residual_branch.experimental_get_tracing_count() - before == 2
    inline_hidden, inline_gradients = _stack_step(blocks, x, traced=False)
    np.testing.assert_array_equal(hidden, inline_hidden)
    for gradient, inline_gradient in zip(gradients, inline_gradients, strict=True):
        np.testing.assert_array_equal(gradient, inline_gradient)


def test_under_xla_the_branch_is_written_inline():
    # XLA compiles the step whole; it took minutes to compile a stack of nested functions.
    block = NextItNetBlock(dilation=2)
    x = tf.random.normal([3, 12, 8], seed=4)
    block.build(x.shape)
    block.rezero_lambda.assign(0.5)
    before = traced_residual_branch.experimental_get_tracing_count()
    hidden = tf.function(lambda: block(x, training=True), jit_compile=True)()
    assert traced_residual_branch.experimental_get_tracing_count() == before
    taps = block_taps(12, 2, 3)
    expected = tf.function(lambda: nextitnet_block(x, block.block_weights, taps), jit_compile=True)
    np.testing.assert_array_equal(hidden, expected())
