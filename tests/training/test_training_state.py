"""A run's resumable state: the best and last checkpoints, mid-epoch positions, non-finite losses,
and checkpoints that cannot be read or written."""

import os

import pytest
import tensorflow as tf

from skiprec_tf.config import DataConfig, ModelConfig, RunConfig
from skiprec_tf.errors import CheckpointError, NonFiniteLossError, RunDirError
from skiprec_tf.training.run_dir import RunDir, build_model
from skiprec_tf.training.training_state import TrainingState


def _tiny_model():
    config = RunConfig(data=DataConfig(seq_len=5), model=ModelConfig(embedding_dim=4, num_blocks=2))
    model = build_model(config, num_items=7)
    model.compile(optimizer="adam")
    return model


def test_training_state_keeps_the_best_scored_epoch_and_resumes_after_the_last(tmp_path):
    run = RunDir(tmp_path / "run")
    state = TrainingState(run, _tiny_model(), first_best_epoch=1)
    for epoch, score in enumerate([0.9, 0.4, 0.6, 0.5]):  # epoch 0 (a warm-up) never counts
        state.on_epoch_end(epoch, {"val_mrr_at_5": score})
    assert float(state.best_score) == 0.6 and int(state.best_epoch) == 3
    resumed = TrainingState(run, _tiny_model(), first_best_epoch=1)
    assert resumed.restore_last() == (4, 0) and float(resumed.best_score) == 0.6


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
    assert resumed.restore_last() == (5, 0) and resumed.stopped_early()
    assert not TrainingState(run, _tiny_model(), first_best_epoch=1).stopped_early()


def test_a_checkpoint_every_steps_saves_the_position_within_the_epoch(tmp_path):
    run = RunDir(tmp_path / "run")
    model = _tiny_model()
    state = TrainingState(run, model, every_steps=2)
    state.set_model(model)
    state.set_params({"steps": 5})
    model.loss_tracker.update_state(3.0)
    for batch in range(4):  # saves after steps 2 and 4 of epoch 1
        state.on_train_batch_end(batch, {"loss": 3.0})
    resumed_model = _tiny_model()
    resumed = TrainingState(run, resumed_model, every_steps=2)
    assert resumed.restore_last() == (0, 4)
    resumed.step_offset = 4
    resumed.on_epoch_begin(0)  # after Keras has reset the metrics: the epoch's mean goes on
    assert float(resumed_model.loss_tracker.result()) == 3.0
    state.on_train_batch_end(4, {"loss": 3.0})  # the epoch's last step: `on_epoch_end` saves
    assert TrainingState(run, _tiny_model()).restore_last() == (0, 4)


def test_a_nonfinite_loss_stops_training_before_anything_of_it_is_saved(tmp_path):
    run = RunDir(tmp_path / "run")
    model = _tiny_model()
    state = TrainingState(run, model, every_steps=1)
    state.set_model(model)
    state.on_train_batch_end(0, {"loss": 2.5})
    saved = state.last.latest_checkpoint
    with pytest.raises(NonFiniteLossError, match=r"nan at step 2 of epoch 1.*step 1 of epoch 1"):
        state.on_train_batch_end(1, {"loss": float("nan")})
    assert model.stop_training and state.last.latest_checkpoint == saved


def _written_run(tmp_path):
    run = RunDir(tmp_path / "run")
    TrainingState(run, _tiny_model()).on_epoch_end(0, {"val_mrr_at_5": 0.5})
    return run


def test_a_truncated_checkpoint_is_an_error_naming_it_not_a_fresh_start(tmp_path):
    run = _written_run(tmp_path)
    (data_file,) = [name for name in os.listdir(run.last_checkpoints) if ".data-" in name]
    path = os.path.join(run.last_checkpoints, data_file)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)
    with pytest.raises(CheckpointError, match=r"checkpoints/last/ckpt-0: .*cannot be restored"):
        TrainingState(run, _tiny_model()).restore_last()


def test_an_unreadable_checkpoint_index_is_an_error_not_a_fresh_start(tmp_path):
    run = _written_run(tmp_path)
    with open(os.path.join(run.last_checkpoints, "checkpoint"), "w") as f:
        f.write("\x00garbage{")
    with pytest.raises(CheckpointError, match=r"checkpoints/last/checkpoint: .*cannot be read"):
        TrainingState(run, _tiny_model())


def test_a_resumed_run_removes_the_checkpoint_writes_a_killed_one_left(tmp_path):
    run = _written_run(tmp_path)
    os.makedirs(os.path.join(run.last_checkpoints, "ckpt-2_temp"))
    assert TrainingState(run, _tiny_model()).restore_last() == (1, 0)
    assert not os.path.exists(os.path.join(run.last_checkpoints, "ckpt-2_temp"))


def test_a_checkpoint_that_cannot_be_written_is_an_error_naming_it_and_keeps_the_last(
    tmp_path, monkeypatch
):
    run = _written_run(tmp_path)
    state = TrainingState(run, _tiny_model())
    state.restore_last()  # best score 0.5: the epoch below writes checkpoints/last only
    kept = state.last.latest_checkpoint

    def full_disk(*args, **kwargs):
        raise tf.errors.ResourceExhaustedError(None, None, "No space left on device")

    monkeypatch.setattr(tf.train.Checkpoint, "_write", full_disk)  # what the manager calls
    with pytest.raises(RunDirError, match=r"checkpoints/last: .*No space left on device"):
        state.on_epoch_end(1, {"val_mrr_at_5": 0.1})
    assert tf.train.latest_checkpoint(run.last_checkpoints) == kept


def test_a_checkpoint_of_the_version_before_mid_epoch_checkpoints_resumes_after_its_epoch(
    tmp_path,
):
    run = RunDir(tmp_path / "run")
    model = _tiny_model()
    old = tf.train.Checkpoint(  # what a run saved before: no step, seed states or running means
        model=model,
        optimizer=model.optimizer,
        epoch=tf.Variable(3, dtype=tf.int64),
        best_score=tf.Variable(0.25, dtype=tf.float64),
        best_epoch=tf.Variable(2, dtype=tf.int64),
    )
    tf.train.CheckpointManager(old, run.last_checkpoints, 1).save()
    state = TrainingState(run, _tiny_model())
    assert state.restore_last() == (3, 0) and float(state.best_score) == 0.25


def test_checkpoints_are_named_by_the_training_step_never_reusing_a_name(tmp_path):
    run = RunDir(tmp_path / "run")
    model = _tiny_model()
    state = TrainingState(run, model)
    model.optimizer.iterations.assign(13)
    state.on_epoch_end(0, {"val_mrr_at_5": 0.5})
    assert os.path.basename(state.best.latest_checkpoint) == "ckpt-13"
    assert os.path.basename(state.last.latest_checkpoint) == "ckpt-13"
    state.on_epoch_end(1, {"val_mrr_at_5": 0.4})  # no update between (all skipped): a new name
    assert os.path.basename(state.last.latest_checkpoint) == "ckpt-14"
    resumed = TrainingState(run, model)  # the name after a resume is the step's, as before
    resumed.restore_last()
    model.optimizer.iterations.assign(26)
    resumed.on_epoch_end(2, {"val_mrr_at_5": 0.6})
    assert os.path.basename(resumed.best.latest_checkpoint) == "ckpt-26"
