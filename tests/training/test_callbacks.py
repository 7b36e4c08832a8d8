"""The callbacks of a run: the policy schedule (warm-up, curriculum)."""

import numpy as np
import pytest

from skiprec_tf.config import ModelConfig, PolicyConfig
from skiprec_tf.models import build_recommender
from skiprec_tf.training.callbacks import PolicySchedule, controlled_blocks


@pytest.mark.parametrize(
    "epoch, warmup, curriculum, expected",
    [
        (0, 2, 0, [0, 0, 0, 0]),
        (1, 2, 0, [0, 0, 0, 0]),
        (2, 2, 0, [1, 1, 1, 1]),
        (0, 0, 4, [0, 0, 0, 1]),
        (1, 0, 4, [0, 0, 1, 1]),
        (3, 0, 4, [1, 1, 1, 1]),
        (9, 0, 4, [1, 1, 1, 1]),
        (1, 1, 2, [0, 0, 1, 1]),
    ],
)
def test_policy_schedule(epoch, warmup, curriculum, expected):
    assert controlled_blocks(epoch, 4, warmup, curriculum) == expected


def test_policy_schedule_hands_over_the_blocks_and_ends_with_all():
    model = build_recommender(
        ModelConfig(model="skiprec_rl", embedding_dim=4, num_blocks=4), PolicyConfig(), 7, 4
    )
    schedule = PolicySchedule(warmup_epochs=1, curriculum_epochs=2)
    schedule.set_model(model)
    assert schedule.first_full_epoch == 3
    schedule.on_epoch_begin(0)
    np.testing.assert_array_equal(model.controlled, [0, 0, 0, 0])
    schedule.on_epoch_begin(1)
    np.testing.assert_array_equal(model.controlled, [0, 0, 1, 1])
    schedule.on_train_end()
    np.testing.assert_array_equal(model.controlled, [1, 1, 1, 1])
