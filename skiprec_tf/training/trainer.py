"""One training run: fit with validation every epoch, keep the best, test, write the run dir."""

import dataclasses
import hashlib
import os
import sys

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from skiprec_tf.config import RESUMABLE, RunConfig
from skiprec_tf.data.pipeline import evaluation_batches, steps_per_epoch, training_batches
from skiprec_tf.data.preprocess import SequenceData
from skiprec_tf.data.stats import format_table1
from skiprec_tf.errors import ConfigError
from skiprec_tf.evaluation.analysis import analyse_block_usage
from skiprec_tf.evaluation.baselines import MarkovChain, MostPop, baseline_ranks, mean_metrics
from skiprec_tf.evaluation.metrics import target_ranks
from skiprec_tf.evaluation.report import format_run_report
from skiprec_tf.models import SkipRec
from skiprec_tf.training.callbacks import PolicySchedule, TensorBoardLogger
from skiprec_tf.training.distribute import make_strategy
from skiprec_tf.training.optimizers import Adam, AdamW
from skiprec_tf.training.progress import EpochCSVLogger, progress_callbacks
from skiprec_tf.training.run_dir import RunDir, optimizer_step
from skiprec_tf.training.run_dir import build_model as build_recommender_model
from skiprec_tf.training.training_state import TrainingState
from skiprec_tf.training.two_stage import load_backbone
from skiprec_tf.training.xla_cache import align_function_names

BASELINES = ("most_popular", "markov_chain")  # their keys in metrics.json and test_ranks.npz


def build_model(config: RunConfig, num_items: int) -> keras.Model:
    """The compiled model of `config`, with its weights and optimizer slots created."""
    keras.utils.set_random_seed(config.train.seed)
    model = build_recommender_model(config, num_items)
    model.skip_nonfinite_steps = config.train.skip_nonfinite_steps
    optimizer = _optimizer(config.train)
    model.compile(optimizer=optimizer, jit_compile=config.train.jit_compile)
    optimizer.build(model.trainable_variables)
    if isinstance(model, SkipRec) and config.policy.policy_learning_rate is not None:
        policy_train = dataclasses.replace(
            config.train, learning_rate=config.policy.policy_learning_rate
        )
        model.policy_optimizer = _optimizer(policy_train)
        model.policy_optimizer.build(model.policy.trainable_variables)
    return model


def _optimizer(train):
    """Adam (the paper's), or AdamW with decoupled weight decay of the kernels and embeddings."""
    if not train.weight_decay:
        return Adam(train.learning_rate)
    optimizer = AdamW(train.learning_rate, weight_decay=train.weight_decay)
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta", "rezero_lambda"])
    return optimizer


def train_and_evaluate(
    config: RunConfig, data: SequenceData, user_groups=None, strategy=None
) -> dict:
    """Trains on `data.train`, validates every epoch, tests the best epoch; returns metrics.json.

    Args:
      config: the run.
      data: the preprocessed data set.
      user_groups: optional `{name: raw user ids}` whose block usage SkipRec reports apart
        (the synthetic data set's easy and hard users).
      strategy: the `tf.distribute` strategy to train under (default: `config.train.strategy`'s,
        which `multi_worker` needs made before any other TensorFlow op: `make_strategy`).
    """
    run = RunDir(config.run_dir)
    check_can_start(run, config)
    strategy = strategy or make_strategy(config.train.strategy)
    with strategy.scope():  # the model's and optimizers' variables, mirrored on the replicas
        model = build_model(config, data.num_items)
    schedule = _policy_schedule(model, config)
    first_best_epoch = schedule.first_full_epoch if schedule else 0
    state = TrainingState(
        run, model, first_best_epoch, config.train.patience, config.train.checkpoint_every_steps
    )
    start = restore_or_initialise(model, state, config, data)
    align_function_names()  # a resumed run's steps hit the XLA cache of its first start
    run.truncate_history(start[0])
    run.write_config(config)
    run.write_item_ids(data.item_ids)
    print(format_table1(config.data.name, data), flush=True)  # once, on stdout, as the report
    fit(model, config, data, run, [schedule] if schedule else [], state, start)
    if strategy.num_replicas_in_sync > 1:
        logging.info(
            "Weights after training (sha256, the same on every worker): %s",
            weights_digest(model),
        )
    state.restore_best()
    results = evaluate(model, config, data, float(state.best_score), run, user_groups)
    run.write_metrics(results)
    write_test_summaries(run, results, optimizer_step(model))
    print(format_run_report(results, run.path))
    return results


def weights_digest(model) -> str:
    """A sha256 of the model's weights, to see that replicas and workers agree."""
    digest = hashlib.sha256()
    for weight in model.weights:
        digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(weight)).tobytes())
    return digest.hexdigest()


def check_can_start(run: RunDir, config: RunConfig, overwrite: bool = False) -> None:
    """Refuses, before anything is loaded or written, a run directory that holds a run without
    --resume (unless `overwrite`: the caller replaces it), and a --resume of a run that does not
    exist or was trained with other settings than those a resume may change (`RESUMABLE`),
    and a SkipRec run whose policy would never train (`RunConfig.check_policy_trains`)."""
    config.check_policy_trains()
    if not config.resume:
        if (run.holds_run() or run.has_config()) and not overwrite:
            raise ConfigError(
                f"--run_dir={run.path} already holds a run: pass --resume to continue it, "
                "--overwrite to replace it, or choose another --run_dir"
            )
        return
    if not os.path.isdir(run.path):
        raise ConfigError(f"--resume: {run.path} does not exist, there is no run to continue")
    if not run.has_config():
        raise ConfigError(f"--resume: {run.path} has no config.json, there is no run to continue")
    changed = run.read_config().changed_flags(config)
    if changed:
        raise ConfigError(
            f"--resume: {run.config_file} was trained with other settings "
            f"({'; '.join(changed)}); only --{', --'.join(sorted(RESUMABLE))} may change"
        )


def _policy_schedule(model, config: RunConfig):
    """SkipRec's warm-up and curriculum (`PolicySchedule`), or None for NextItNet+."""
    if not isinstance(model, SkipRec):
        return None
    return PolicySchedule(config.policy.warmup_epochs, config.policy.curriculum_epochs)


def restore_or_initialise(model, state: TrainingState, config: RunConfig, data):
    """Resumes from the last checkpoint (returns its position: finished epochs, steps finished
    of the next one), or starts at (0, 0) from `--init_from`'s backbone (two-stage training) or
    from scratch."""
    start_epoch, start_step = state.restore_last() if config.resume else (0, 0)
    if (start_epoch, start_step) == (0, 0) and config.policy.init_from:
        load_backbone(model, config, data.item_ids)
    return start_epoch, start_step


def fit(model, config: RunConfig, data, run: RunDir, callbacks, state, start) -> None:
    """Epochs `start_epoch + 1 .. epochs`, validated after each, with the run's callbacks;
    `start` = (start_epoch, start_step): a run resumed within an epoch first finishes it."""
    start_epoch, start_step = start
    steps = steps_per_epoch(len(data.train), config.train.batch_size)
    if config.train.batch_size > len(data.train):
        logging.warning(
            "--batch_size=%d is larger than the %d training sequences: one batch per epoch",
            config.train.batch_size,
            len(data.train),
        )
    if start_step:
        state.step_offset = start_step
        _fit_epochs(model, config, data, run, callbacks, state, start_epoch, start_step, steps)
        start_epoch += 1
    _fit_epochs(model, config, data, run, callbacks, state, start_epoch, 0, steps)


def _fit_epochs(model, config, data, run, callbacks, state, start_epoch, start_step, steps):
    """`model.fit` from step `start_step` of epoch `start_epoch + 1`: to the end of that epoch
    if `start_step`, else to the last epoch."""
    train = config.train
    epochs = start_epoch + 1 if start_step else train.epochs
    if start_epoch >= epochs or state.stopped_early():
        return
    model.fit(
        training_batches(data.train, train.batch_size, train.seed, start_epoch, epochs, start_step),
        epochs=epochs,
        initial_epoch=start_epoch,
        steps_per_epoch=steps - start_step,
        validation_data=evaluation_batches(data.valid, train.eval_batch_size),
        callbacks=[
            *callbacks,
            # An epoch's line before its checkpoint: a resume rewrites lines, never loses one.
            EpochCSVLogger(run.history_file, append=start_epoch > 0 or start_step > 0),
            state,
            TensorBoardLogger(run.tensorboard_dir),
            *progress_callbacks(sys.stdout.isatty(), start_step, train.epochs),
        ],
        shuffle=False,  # the data set is already shuffled, per epoch and resumably
        verbose=1 if sys.stdout.isatty() else 2,
    )


def evaluate(model, config: RunConfig, data, best_valid: float, run: RunDir, user_groups) -> dict:
    """metrics.json: the model's test metrics next to the baselines' (MostPop, the Markov chain),
    the data set sizes, and SkipRec's block usage. The rank of every test target under each is
    written to the run's `test_ranks.npz`, for paired comparisons."""
    batch_size = config.train.eval_batch_size
    # One pass over the test set: the metrics are those of the ranks that paired comparisons use.
    ranks = {"model": model_ranks(model, data.test, batch_size)}
    for baseline in (MostPop(data.train, data.num_items), MarkovChain(data.train, data.num_items)):
        ranks[baseline.name] = baseline_ranks(baseline, data.test, batch_size)
    run.write_test_ranks(ranks, data.test)
    results = {
        "model": model.name,
        "test": mean_metrics(ranks["model"]),
        **{name: mean_metrics(ranks[name]) for name in BASELINES},
        "best_valid_mrr_at_5": best_valid,
        "epochs": config.train.epochs,
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
    if isinstance(model, SkipRec):
        step = optimizer_step(model)
        results["block_usage"] = analyse_block_usage(model, config, data, user_groups, run, step)
        results["test"]["block_usage"] = results["block_usage"]["usage_fraction"]
    return results


def model_ranks(model, sequences, batch_size: int) -> np.ndarray:
    """1-based rank `[n]` of the last item of every sequence under the model's scores."""
    rank = tf.function(
        lambda inputs, targets: target_ranks(
            model(inputs, training=False)[:, 1:], targets[:, -1] - 1
        )
    )
    ranks = [
        rank(inputs, targets).numpy()
        for inputs, targets in evaluation_batches(sequences, batch_size)
    ]
    return np.concatenate(ranks).astype(np.int32)


def write_test_summaries(run: RunDir, results: dict, step: int) -> None:
    """TensorBoard's `test/<metric>` scalars of the model and `test/<baseline>/<metric>` of the
    baselines, so that a model below a baseline shows at once."""
    writer = tf.summary.create_file_writer(run.tensorboard_dir)
    with writer.as_default():
        for name, value in results["test"].items():
            tf.summary.scalar(f"test/{name}", value, step=step)
        for baseline in BASELINES:
            for name, value in results[baseline].items():
                tf.summary.scalar(f"test/{baseline}/{name}", value, step=step)
    writer.close()
