"""SkipRec: Eq. 5, the controlled blocks, the usage penalty, and the train steps' reports."""

import numpy as np
import pytest
import tensorflow as tf
from skiprec_testing import N, make_batch, make_skiprec

from skiprec_tf.models import (
    CNNPolicy,
    GRUPolicy,
    NextItNetPlus,
    RandomPolicy,
    SkipRec,
    SkipRecGumbel,
    SkipRecRL,
)


def test_eq5_skipping_every_block_returns_the_embeddings():
    model, (inputs, _) = make_skiprec(), make_batch()
    hidden = model.encode(inputs, actions=tf.zeros([6, N]))
    np.testing.assert_array_equal(hidden, model.item_embedding(inputs))


def test_eq5_keeping_every_block_is_nextitnet_plus():
    model, (inputs, _) = make_skiprec(), make_batch()
    np.testing.assert_allclose(
        model.encode(inputs, actions=tf.ones([6, N])),
        NextItNetPlus.encode(model, inputs),
        atol=1e-6,
    )


def test_eq5_mixed_actions_per_user():
    model, (inputs, _) = make_skiprec(), make_batch()
    actions = tf.constant([[1, 0, 1, 0]] * 3 + [[0, 0, 0, 1]] * 3, tf.float32)
    expected = model.item_embedding(inputs).numpy()
    for user in range(6):
        for l, block in enumerate(model.residual_blocks):
            if actions[user, l]:
                expected[user] = block(expected[user][None])[0]
    np.testing.assert_allclose(model.encode(inputs, actions=actions), expected, atol=1e-5)


def test_greedy_inference_is_deterministic_and_binary():
    model, (inputs, _) = make_skiprec(), make_batch()
    first, second = model.inference_actions(inputs), model.inference_actions(inputs)
    np.testing.assert_array_equal(first, second)
    assert set(np.unique(first)) <= {0.0, 1.0}


@pytest.mark.parametrize(
    "cls, policy_cls",
    [
        (SkipRecRL, RandomPolicy),
        (SkipRecGumbel, CNNPolicy),
        pytest.param(SkipRecRL, GRUPolicy, marks=pytest.mark.slow),  # the second tier: 6 s
    ],
)
def test_train_steps_run_and_report_block_usage(cls, policy_cls):
    model = make_skiprec(cls, policy_cls)
    model.compile(optimizer="adam")
    inputs, targets = make_batch(rows=16)
    history = model.fit(inputs, targets, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert 0.0 <= history.history["block_usage"][0] <= 1.0
    results = model.evaluate(inputs, targets, return_dict=True, verbose=0)
    assert {"mrr_at_5", "hr_at_20", "block_usage"} <= set(results)


def test_skiprec_itself_has_no_training_loss():
    model, (inputs, targets) = make_skiprec(SkipRec), make_batch()
    with pytest.raises(NotImplementedError, match="SkipRecGumbel or SkipRecRL"):
        model.compute_loss(inputs, targets)


def test_uncontrolled_blocks_are_always_retained():
    model, (inputs, _) = make_skiprec(), make_batch()
    model.controlled.assign([0.0, 0.0, 1.0, 1.0])
    model.policy.logits.bias.assign(tf.tile([30.0, -30.0], [N]))  # the policy skips everything
    np.testing.assert_array_equal(model.inference_actions(inputs), [[1, 1, 0, 0]] * 6)


def test_target_usage_penalty():
    # Off without a target_usage.
    assert float(tf.reduce_max(make_skiprec().usage_penalty(tf.constant([0.2, 0.9])))) == 0.0
    model = make_skiprec(SkipRecRL, target_usage=0.5, usage_weight=2.0)
    np.testing.assert_allclose(model.usage_penalty(tf.constant([0.5, 1.0, 0.0])), [0.0, 0.5, 0.5])
    with pytest.raises(ValueError, match="target_usage"):
        make_skiprec(target_usage=1.5)
