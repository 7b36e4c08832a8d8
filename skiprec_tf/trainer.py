"""One training run: fit with validation every epoch, keep the best, test, write the run dir."""

import dataclasses
import json
import os
import sys

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from skiprec_tf.analysis import analyse_block_usage
from skiprec_tf.baselines import evaluate_most_popular
from skiprec_tf.callbacks import PolicySchedule, TensorBoardLogger, TrainingState
from skiprec_tf.config import DATA_FLAGS, RunConfig
from skiprec_tf.data.pipeline import evaluation_batches, steps_per_epoch, training_batches
from skiprec_tf.data.preprocess import SequenceData
from skiprec_tf.data.stats import format_table1
from skiprec_tf.errors import ConfigError
from skiprec_tf.models import SkipRec, build_recommender
from skiprec_tf.report import format_block_usage, format_metrics_table
from skiprec_tf.two_stage import load_backbone


def build_model(config: RunConfig, num_items: int, seq_len: int) -> keras.Model:
    """The compiled model of `config`, with its weights and optimizer slots created."""
    keras.utils.set_random_seed(config.train.seed)
    model = build_recommender(config.model, config.policy, num_items, config.train.seed)
    optimizer = keras.optimizers.Adam(config.train.learning_rate)
    model.compile(optimizer=optimizer, jit_compile=config.train.jit_compile)
    model(tf.zeros([1, seq_len - 1], tf.int32))
    optimizer.build(model.trainable_variables)
    return model


def train_and_evaluate(config: RunConfig, data: SequenceData, user_groups=None) -> dict:
    """Trains on `data.train`, validates every epoch, tests the best epoch; returns metrics.json.

    Args:
      config: the run.
      data: the preprocessed data set.
      user_groups: optional `{name: raw user ids}` whose block usage SkipRec reports apart
        (the synthetic data set's easy and hard users).
    """
    run_dir = config.run_dir
    state_dir = os.path.join(run_dir, "checkpoints", "last")
    if os.path.isdir(state_dir) and not config.resume:
        raise ConfigError(
            f"--run_dir={run_dir} already holds a run: pass --resume to continue it or choose "
            "another --run_dir"
        )
    if config.resume:
        _check_resumable(config)
    model = build_model(config, data.num_items, data.seq_len)
    callbacks, first_best_epoch = [], 0
    if isinstance(model, SkipRec):
        schedule = PolicySchedule(config.policy.warmup_epochs, config.policy.curriculum_epochs)
        callbacks, first_best_epoch = [schedule], schedule.first_full_epoch
    state = TrainingState(run_dir, model, model.optimizer, first_best_epoch)
    start_epoch = state.restore_last() if config.resume else 0
    if start_epoch == 0 and config.policy.init_from:
        load_backbone(model, config.policy.init_from, data.item_ids)

    os.makedirs(run_dir, exist_ok=True)
    _write_text(os.path.join(run_dir, "config.json"), config.to_json())
    np.save(os.path.join(run_dir, "item_ids.npy"), data.item_ids)
    table1 = format_table1(config.data.name, data)
    logging.info("Data set:\n%s", table1)
    train = config.train
    if start_epoch < train.epochs:
        model.fit(
            training_batches(data.train, train.batch_size, train.seed, start_epoch, train.epochs),
            epochs=train.epochs,
            initial_epoch=start_epoch,
            steps_per_epoch=steps_per_epoch(len(data.train), train.batch_size),
            validation_data=evaluation_batches(data.valid, train.eval_batch_size),
            callbacks=[
                *callbacks,
                state,
                TensorBoardLogger(os.path.join(run_dir, "tensorboard")),
                keras.callbacks.CSVLogger(
                    os.path.join(run_dir, "history.csv"), append=start_epoch > 0
                ),
            ],
            shuffle=False,  # the data set is already shuffled, per epoch and resumably
            verbose=1 if sys.stdout.isatty() else 2,
        )
    state.restore_best()
    test = model.evaluate(
        evaluation_batches(data.test, train.eval_batch_size), return_dict=True, verbose=0
    )
    test = {name: float(value) for name, value in test.items() if name != "loss"}
    most_pop = evaluate_most_popular(data.train, data.test, data.num_items, train.eval_batch_size)
    results = {
        "model": model.name,
        "test": test,
        "most_popular": most_pop,
        "best_valid_mrr_at_5": float(state.best_score),
        "epochs": train.epochs,
        "data": {
            "num_items": data.num_items,
            "num_interactions": data.num_interactions,
            "num_sequences": data.num_sequences,
            "seq_len": data.seq_len,
            "train": len(data.train),
            "valid": len(data.valid),
            "test": len(data.test),
        },
    }
    log_dir, step = os.path.join(run_dir, "tensorboard"), int(model.optimizer.iterations)
    if isinstance(model, SkipRec):
        results["block_usage"] = analyse_block_usage(
            model, config, data, user_groups, run_dir, log_dir, step
        )
    _write_text(os.path.join(run_dir, "metrics.json"), json.dumps(results, indent=2))
    _log_test_metrics(log_dir, test, step)
    print(table1)
    print(
        f"\nTest metrics (last item of {len(data.test):,} test sequences, ranked against all items):"
    )
    print(format_metrics_table({model.name: test, "MostPop": most_pop}))
    if "block_usage" in results:
        print(format_block_usage(results["block_usage"]))
    print(f"\nRun directory: {run_dir}")
    return results


def _check_resumable(config: RunConfig) -> None:
    """A resumed run must have the data and model of the run it continues (epochs may grow)."""
    path = os.path.join(config.run_dir, "config.json")
    if not os.path.isfile(path):
        return
    with open(path) as f:
        saved = RunConfig.from_json(f.read())
    for part in ("data", "model"):
        old, new = (
            dataclasses.asdict(getattr(saved, part)),
            dataclasses.asdict(getattr(config, part)),
        )
        changed = [
            f"--{DATA_FLAGS.get(k, k) if part == 'data' else k}: {old[k]} -> {new[k]}"
            for k in old
            if old[k] != new.get(k)
        ]
        if changed:
            raise ConfigError(
                f"--resume: {path} was trained with other {part} settings ({'; '.join(changed)})"
            )


def _log_test_metrics(log_dir: str, metrics: dict, step: int) -> None:
    writer = tf.summary.create_file_writer(log_dir)
    with writer.as_default():
        for name, value in metrics.items():
            tf.summary.scalar(f"test/{name}", value, step=step)
    writer.close()


def _write_text(path: str, text: str) -> None:
    """Writes `path` atomically (a temp file, then a rename)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
