"""SkipRec-RL trained with real skipping (`skip_in_training`): a block runs only on the users that
retain it, with the losses and gradients of the masked Eq. 5."""

import numpy as np
import pytest
import tensorflow as tf
from skiprec_testing import N, V, make_batch, make_skiprec

from skiprec_tf.config import ModelConfig, PolicyConfig, RunConfig, TrainConfig
from skiprec_tf.errors import ConfigError
from skiprec_tf.models import AttentionPolicy, SkipRecGumbel, SkipRecRL
from skiprec_tf.models.real_skipping import retaining_rows
from skiprec_tf.models.sasrec import sasrec_backbone


def _decided_policy(model):
    """Block 0 retained by everyone, block 1 by no one, blocks 2 and 3 by some."""
    bias = np.zeros([N, 2], np.float32)
    bias[0], bias[1] = (-30.0, 30.0), (30.0, -30.0)
    model.policy.logits.bias.assign(bias.reshape(-1))


def _loss_and_gradients(model, inputs, targets, skip_in_training):
    model.skip_in_training = skip_in_training
    seed_state = model.seed_generator.state.numpy()
    with tf.GradientTape() as tape:
        ce_loss, rl_loss, _, sampled = model.losses(inputs, targets)
        loss = ce_loss + model.beta * rl_loss
    gradients = [
        None if g is None else tf.convert_to_tensor(g).numpy()  # dense embedding gradients
        for g in tape.gradient(loss, model.trainable_variables)
    ]
    model.seed_generator.state.assign(seed_state)
    return float(loss), gradients, sampled.numpy()


def _sasrec_skiprec():
    backbone = sasrec_backbone(7, N, num_heads=2, rezero=True, dropout=0.0)
    model = SkipRecRL(
        V, AttentionPolicy(V, N, 8, input_length=7), embedding_dim=8, seed=1, **backbone
    )
    model(tf.zeros([1, 7], tf.int32))
    for block in model.residual_blocks:
        block.rezero_lambda.assign(0.5)
    return model


@pytest.mark.parametrize("backbone", ["nextitnet_plus", "sasrec_plus"])
@pytest.mark.parametrize("reward", ["hit", "log_likelihood"])
def test_real_skipping_gives_the_masked_losses_and_gradients(backbone, reward):
    model = (
        make_skiprec(SkipRecRL, reward=reward)
        if backbone == "nextitnet_plus"
        else _sasrec_skiprec()
    )
    model.reward_kind = reward
    _decided_policy(model)
    inputs, targets = make_batch(rows=16)
    if backbone == "sasrec_plus":  # left padding, which SASRec+ masks per row
        inputs = tf.concat([tf.zeros([16, 2], tf.int32), inputs[:, 2:]], axis=1)
    masked_loss, masked_gradients, masked_actions = _loss_and_gradients(
        model, inputs, targets, False
    )
    loss, gradients, actions = _loss_and_gradients(model, inputs, targets, True)
    np.testing.assert_array_equal(actions, masked_actions)
    used = actions.mean(axis=0)
    assert used[0] == 1.0 and used[1] == 0.0 and 0.0 < used[2:].min() and used[2:].max() < 1.0
    np.testing.assert_allclose(loss, masked_loss, rtol=1e-5)
    for variable, expected, actual in zip(model.trainable_variables, masked_gradients, gradients):
        # None is a zero gradient: the block nobody retains has none when it does not run.
        zeros = np.zeros(variable.shape, np.float32)
        expected, actual = (zeros if g is None else g for g in (expected, actual))
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-6, err_msg=variable.path)


# The second tier: a compiled 32-step comparison; the eager one above stays in the first.
@pytest.mark.slow
def test_a_compiled_training_step_with_real_skipping_updates_the_weights_as_the_masked_one():
    inputs, targets = make_batch(rows=16)
    models = [make_skiprec(SkipRecRL, skip_in_training=skip) for skip in (False, True)]
    models[1].set_weights(models[0].get_weights())
    for model in models:
        _decided_policy(model)
        model.compile(optimizer="adam", jit_compile=False)
        model.train_step((inputs, targets))  # once eagerly (builds the optimizer)
        step = tf.function(model.train_step)
        step((inputs, targets))
    for masked, skipped in zip(*(model.trainable_variables for model in models)):
        np.testing.assert_allclose(skipped, masked, rtol=1e-4, atol=1e-6, err_msg=masked.path)


def test_a_block_runs_only_on_the_rows_that_retain_it():
    seen = []

    def block(l, hidden, padding_mask):
        seen.append((l, int(tf.shape(hidden)[0])))
        return hidden + 1.0

    actions = tf.constant([[1, 0, 1], [1, 0, 0], [1, 0, 1], [1, 0, 0]], tf.float32)
    hidden = retaining_rows(tf.zeros([4, 3, 2]), actions, block)
    # Block 1, which nobody retains, on one row whose output is discarded; block 2 on its 2 rows.
    assert seen == [(0, 4), (1, 1), (2, 2)]
    np.testing.assert_array_equal(hidden[:, 0, 0], [2.0, 1.0, 2.0, 1.0])


def test_gumbel_and_xla_refuse_real_skipping():
    with pytest.raises(ValueError, match="Eq. 7"):
        make_skiprec(SkipRecGumbel, skip_in_training=True)
    policy = PolicyConfig(skip_in_training=True)
    with pytest.raises(ConfigError, match="Eq. 7"):
        RunConfig(model=ModelConfig(model="skiprec_gumbel"), policy=policy)
    with pytest.raises(ConfigError, match="--jit_compile=false"):
        RunConfig(
            model=ModelConfig(model="skiprec_rl"),
            policy=policy,
            train=TrainConfig(jit_compile=True),
        )
    with pytest.raises(ConfigError, match="SkipRec-RL's"):
        RunConfig(model=ModelConfig(model="nextitnet_plus"), policy=policy)
    RunConfig(model=ModelConfig(model="skiprec_rl"), policy=policy)  # accepted
