"""A training run end to end on tiny synthetic data: the run directory, and exact resume."""

import dataclasses
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from skiprec_tf.config import DataConfig, ModelConfig, PolicyConfig, RunConfig, TrainConfig
from skiprec_tf.data.sources import load_data
from skiprec_tf.errors import ConfigError
from skiprec_tf.evaluation.baselines import mean_metrics
from skiprec_tf.evaluation.metrics import METRIC_NAMES
from skiprec_tf.training.run_dir import RunDir
from skiprec_tf.training.trainer import build_model, train_and_evaluate
from skiprec_tf.training.training_state import TrainingState


def _config(run_dir, epochs, resume=False):
    return RunConfig(
        data=DataConfig(synthetic_users=400, synthetic_items=40, seq_len=12),
        model=ModelConfig(embedding_dim=8, num_blocks=4),
        train=TrainConfig(batch_size=64, eval_batch_size=128, epochs=epochs, seed=5),
        run_dir=str(run_dir),
        resume=resume,
    )


def _last_weights(run_dir, data):
    """The model weights of the run's last checkpoint, restored into a fresh model."""
    model = build_model(_config(run_dir, 1), data.num_items)
    for weight in model.weights:
        weight.assign(tf.zeros_like(weight))
    path = tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints", "last"))
    tf.train.Checkpoint(model=model).restore(path).expect_partial()
    return {weight.path: weight.numpy() for weight in model.weights}


@pytest.fixture(scope="module")
def data():
    return load_data(_config("unused", 1).data)


@pytest.mark.slow
def test_resumed_run_ends_with_the_same_weights(tmp_path, data):
    straight = tmp_path / "straight"
    train_and_evaluate(_config(straight, epochs=3), data)
    # An interrupted run: its last checkpoint is the one written after epoch 1.
    interrupted = tmp_path / "interrupted"
    train_and_evaluate(_config(interrupted, epochs=1), data)
    train_and_evaluate(_config(interrupted, epochs=3, resume=True), data)

    expected, resumed = _last_weights(straight, data), _last_weights(interrupted, data)
    assert len(expected) == 4 * 9 + 3  # 4 blocks (2 convs, 2 norms, lambda), embedding, output
    for name in expected:
        assert np.abs(expected[name]).max() > 0, f"{name} was not restored"
        # Same data order and optimizer state; only float reduction order could differ.
        np.testing.assert_allclose(
            resumed[name], expected[name], rtol=1e-5, atol=1e-6, err_msg=name
        )
    history = (interrupted / "history.csv").read_text().splitlines()
    # Epochs count from 1, as on the console, in the log and the checkpoints, also once resumed.
    assert [line.split(",")[0] for line in history] == ["epoch", "1", "2", "3"]


def test_run_directory_contents(tmp_path, data):
    run_dir = tmp_path / "run"
    results = train_and_evaluate(_config(run_dir, epochs=2), data)
    for name in ("config.json", "metrics.json", "history.csv", "item_ids.npy"):
        assert (run_dir / name).is_file(), name
    assert RunConfig.from_json((run_dir / "config.json").read_text()) == _config(run_dir, 2)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics == json.loads(json.dumps(results))
    assert set(metrics["test"]) == set(
        METRIC_NAMES
    )  # the literal list: tests/evaluation/test_metrics.py
    assert metrics["data"]["test"] == len(data.test)
    tags = _tensorboard_tags(run_dir / "tensorboard")
    assert {"train/loss", "train/learning_rate", "valid/mrr_at_5", "test/hr_at_20"} <= tags
    assert {"test/most_popular/mrr_at_5", "test/markov_chain/hr_at_20"} <= tags
    # The ranks saved for paired comparisons give the metrics reported.
    ranks, _ = RunDir(str(run_dir)).read_test_ranks()
    assert set(ranks) == {"model", "most_popular", "markov_chain"}
    for name, key in (
        ("model", "test"),
        ("most_popular", "most_popular"),
        ("markov_chain", "markov_chain"),
    ):
        assert len(ranks[name]) == len(data.test)
        assert mean_metrics(ranks[name]) == pytest.approx(metrics[key], abs=1e-5), name
    with pytest.raises(ConfigError, match="already holds a run: pass --resume"):
        train_and_evaluate(_config(run_dir, epochs=2), data)
    with pytest.raises(ConfigError, match="does not exist, there is no run to continue"):
        train_and_evaluate(_config(tmp_path / "typo", epochs=2, resume=True), data)
    assert not (tmp_path / "typo").exists()
    other = dataclasses.replace(
        _config(run_dir, 2, resume=True), model=ModelConfig(embedding_dim=16)
    )
    with pytest.raises(ConfigError, match="embedding_dim: 8 -> 16"):
        train_and_evaluate(other, data)


def _tensorboard_tags(log_dir):
    tags = set()
    for path in tf.io.gfile.glob(str(log_dir / "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(value.tag for value in event.summary.value)
    return tags


def test_weight_decay_shrinks_kernels_and_embeddings_only():
    config = dataclasses.replace(
        _config("unused", 1), train=TrainConfig(learning_rate=0.1, weight_decay=0.5)
    )
    model = build_model(config, num_items=7)
    before = {w.path: w.numpy().copy() for w in model.trainable_variables}
    # Zero gradients: Adam's step is 0, so only the decay moves a weight (by lr * wd = 5%).
    model.optimizer.apply([tf.zeros_like(w) for w in model.trainable_variables])
    for weight in model.trainable_variables:
        decayed = weight.path.endswith(("kernel", "embeddings"))
        expected = before[weight.path] * (0.95 if decayed else 1.0)
        np.testing.assert_allclose(weight.numpy(), expected, rtol=1e-5, err_msg=weight.path)


@pytest.mark.slow
def test_a_policy_learning_rate_is_a_second_optimizer_saved_for_resume(tmp_path, data):
    run_dir = tmp_path / "rl"
    config = dataclasses.replace(
        _config(run_dir, epochs=1),
        model=ModelConfig(embedding_dim=8, num_blocks=4, model="skiprec_rl"),
        policy=PolicyConfig(policy_learning_rate=1e-4),
    )
    train_and_evaluate(config, data)
    path = tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints", "last"))
    saved = [name for name, _ in tf.train.list_variables(path)]
    assert any(name.startswith("policy_optimizer/") for name in saved)
    model = build_model(config, data.num_items)
    assert float(model.policy_optimizer.learning_rate) == pytest.approx(1e-4)
    resumed = dataclasses.replace(config, train=dataclasses.replace(config.train, epochs=2))
    train_and_evaluate(dataclasses.replace(resumed, resume=True), data)  # restores both optimizers
    assert len((run_dir / "history.csv").read_text().splitlines()) == 3


class _Crash(Exception):
    pass


@pytest.mark.slow
def test_a_run_crashed_within_an_epoch_resumes_to_the_same_weights_and_history(
    tmp_path, data, monkeypatch
):
    """SkipRec-RL with dropout, checkpointed every 2 steps (5 per epoch), crashed after step 8:
    it resumes at step 2 of epoch 2 (data position, optimizer, seed generators, the epoch's
    running means) and ends bit-identical to the uninterrupted run."""

    def config(run_dir, resume=False):
        return dataclasses.replace(
            _config(run_dir, epochs=3, resume=resume),
            model=ModelConfig(model="skiprec_rl", embedding_dim=8, num_blocks=4, dropout=0.2),
            train=dataclasses.replace(_config(run_dir, 3).train, checkpoint_every_steps=2),
        )

    straight, crashed = tmp_path / "straight", tmp_path / "crashed"
    train_and_evaluate(config(straight), data)
    on_batch_end = TrainingState.on_train_batch_end

    def crash_after_step_8(state, batch, logs=None):
        on_batch_end(state, batch, logs)
        if int(state.recommender.optimizer.iterations) == 8:
            raise _Crash()

    monkeypatch.setattr(TrainingState, "on_train_batch_end", crash_after_step_8)
    with pytest.raises(_Crash):
        train_and_evaluate(config(crashed), data)
    monkeypatch.undo()
    state = TrainingState(RunDir(crashed), build_model(config(crashed), data.num_items))
    assert state.restore_last() == (1, 2)
    train_and_evaluate(config(crashed, resume=True), data)

    for run_dir in (straight, crashed):
        path = tf.train.latest_checkpoint(RunDir(run_dir).last_checkpoints)
        model = build_model(config(run_dir), data.num_items)
        tf.train.Checkpoint(model=model).restore(path).expect_partial()
        weights = [weight.numpy() for weight in model.weights]
        if run_dir == straight:
            expected = weights
    for resumed, weight in zip(weights, expected):
        np.testing.assert_array_equal(resumed, weight)
    assert (crashed / "history.csv").read_text() == (straight / "history.csv").read_text()
    assert RunDir(crashed).read_metrics()["test"] == RunDir(straight).read_metrics()["test"]


@pytest.mark.slow
def test_a_batch_larger_than_the_training_split_is_one_step_per_epoch(tmp_path, data, caplog):
    config = _config(tmp_path / "run", epochs=1)
    config = dataclasses.replace(
        config, train=dataclasses.replace(config.train, batch_size=10 * len(data.train))
    )
    results = train_and_evaluate(config, data)
    assert np.isfinite(results["test"]["mrr_at_5"])
    assert f"larger than the {len(data.train)} training sequences: one batch" in caplog.text
