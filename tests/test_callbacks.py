"""The callbacks of a run: the policy schedule (warm-up, curriculum) and the checkpoints."""

import numpy as np
import pytest
import tensorflow as tf

from skiprec_tf.callbacks import PolicySchedule, TrainingState, controlled_blocks
from skiprec_tf.config import DataConfig, ModelConfig, PolicyConfig, RunConfig
from skiprec_tf.models import build_recommender
from skiprec_tf.run_dir import RunDir, build_model


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


def _tiny_model():
    config = RunConfig(data=DataConfig(seq_len=5), model=ModelConfig(embedding_dim=4, num_blocks=2))
    model = build_model(config, num_items=7)
    model.compile(optimizer="adam")
    return model


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


def test_training_state_keeps_the_best_scored_epoch_and_resumes_after_the_last(tmp_path):
    run = RunDir(tmp_path / "run")
    state = TrainingState(run, _tiny_model(), first_best_epoch=1)
    for epoch, score in enumerate([0.9, 0.4, 0.6, 0.5]):  # epoch 0 (a warm-up) never counts
        state.on_epoch_end(epoch, {"val_mrr_at_5": score})
    assert tf.train.latest_checkpoint(run.best_checkpoints).endswith("ckpt-3")
    assert float(state.best_score) == 0.6
    resumed = TrainingState(run, _tiny_model(), first_best_epoch=1)
    assert resumed.restore_last() == 4 and float(resumed.best_score) == 0.6


def test_patience_stops_once_the_best_is_that_old_and_a_resumed_run_stays_stopped(tmp_path):
    run = RunDir(tmp_path / "run")
    model = _tiny_model()
    state = TrainingState(run, model, first_best_epoch=1, patience=2)
    state.set_model(model)
    for epoch, score in enumerate([0.9, 0.5, 0.6, 0.55]):  # best: epoch 3 (0-based 2)
        state.on_epoch_end(epoch, {"val_mrr_at_5": score})
        assert not model.stop_training
    state.on_epoch_end(4, {"val_mrr_at_5": 0.59})
    assert model.stop_training and state.stopped_early()
    resumed = TrainingState(run, _tiny_model(), first_best_epoch=1, patience=2)
    assert resumed.restore_last() == 5 and resumed.stopped_early()
    assert not TrainingState(run, _tiny_model(), first_best_epoch=1).stopped_early()
