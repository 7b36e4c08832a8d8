"""A run's resumable state: `checkpoints/last` (everything a resume needs, also mid-epoch) and
`checkpoints/best` (the model of the best validation epoch), written and read safely."""

import math
import os
import shutil

import keras
import tensorflow as tf
from absl import logging

from skiprec_tf.errors import CheckpointError, NonFiniteLossError, RunDirError
from skiprec_tf.training.run_dir import RunDir, optimizer_step

BEST_METRIC = "val_mrr_at_5"


class TrainingState(keras.callbacks.Callback):
    """Checkpoints everything a resumed run needs, and the best model by validation MRR@5.

    The run's `checkpoints/last` holds the model (its seed generators too), the optimizers, the
    position in training (finished epochs, and steps finished of the next epoch), the running
    means of the epoch's training metrics, and the best validation score and its epoch. It is
    written after every epoch and, with `every_steps`, every that many steps within an epoch: the
    data order is a function of (seed, epoch) (`training_batches`), so (epoch, step) is the input
    pipeline's whole position. Its `checkpoints/best` holds the model of the best epoch.
    TensorFlow writes a checkpoint's files first and its `checkpoint` index last, atomically,
    so an interrupted write never replaces a good one.

    With `patience`, training stops (early stopping) once the best score is `patience` epochs
    old; a resumed run that had stopped stays stopped. A training loss that is not finite stops
    training with `NonFiniteLossError` before anything of that step is saved.
    """

    def __init__(
        self,
        run: RunDir,
        model: keras.Model,
        first_best_epoch: int = 0,
        patience: int = 0,
        every_steps: int = 0,
    ):
        """`first_best_epoch`: earlier epochs (a policy warm-up or curriculum) never count as best;
        `patience`: epochs without a better score before training stops (0: never);
        `every_steps`: also checkpoint every this many steps within an epoch (0: never)."""
        super().__init__()
        self.run = run
        self.recommender = model
        self.first_best_epoch = first_best_epoch
        self.patience = patience
        self.every_steps = every_steps
        self.step_offset = 0  # steps of the current epoch done before this `fit` (a resume)
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step_in_epoch")
        self.best_score = tf.Variable(-1.0, dtype=tf.float64, trainable=False, name="best_score")
        self.best_epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="best_epoch")
        # Keras resets the metrics when an epoch begins: their running means are kept apart.
        self.trackers = [v for t in model.training_trackers for v in t.variables]
        self.tracker_state = [
            tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False) for v in self.trackers
        ]
        optimizers = {"optimizer": model.optimizer}
        if getattr(model, "policy_optimizer", None) is not None:
            optimizers["policy_optimizer"] = model.policy_optimizer
        # The states of the model's SeedGenerators (dropout, the policy's samples): Keras lists
        # them in `variables` but not in `weights`, and the model's checkpoint leaves them out.
        weights = {id(weight) for weight in model.weights}
        seed_states = [v for v in model.variables if id(v) not in weights]
        last = tf.train.Checkpoint(
            model=model,
            **optimizers,
            seed_states=seed_states,
            epoch=self.epoch,
            step_in_epoch=self.step,
            training_metrics=self.tracker_state,
            best_score=self.best_score,
            best_epoch=self.best_epoch,
        )
        self.last = _checkpoint_manager(last, run.last_checkpoints)
        self.best = _checkpoint_manager(tf.train.Checkpoint(model=model), run.best_checkpoints)

    def restore_last(self):
        """Restores the latest checkpoint, if any; returns (finished epochs, steps finished of
        the next epoch), (0, 0) without a checkpoint."""
        _remove_unfinished_writes(self.run.last_checkpoints, self.run.best_checkpoints)
        path = self.last.latest_checkpoint
        if path is None:
            return 0, 0
        older = not _has_tensor(path, "step_in_epoch/.ATTRIBUTES/VARIABLE_VALUE")
        _restore(self.last.checkpoint, path, partial=older)
        if older:
            logging.warning(
                "%s was written by a version without mid-epoch checkpoints: resumed after its "
                "epoch, with the seed generators' initial state (the run will not be "
                "bit-identical to an uninterrupted one)",
                path,
            )
        epoch, step = int(self.epoch), int(self.step)
        where = f"step {step} of epoch {epoch + 1}" if step else f"epoch {epoch}"
        logging.info("Resumed from %s, saved after %s", path, where)
        return epoch, step

    def restore_best(self) -> None:
        """Loads the weights of the best validation epoch (else the last) into the model."""
        path = self.run.model_checkpoint()
        if path is None:
            raise FileNotFoundError("no checkpoint to restore")
        _restore(self.best.checkpoint, path, partial=True)
        best = int(self.best_epoch)
        logging.info(
            "Restored the %s model from %s", f"best (epoch {best})" if best else "last", path
        )

    def stopped_early(self) -> bool:
        """Whether the best score is `patience` epochs old (always False without patience)."""
        finished = int(self.epoch)
        if not self.patience or finished <= self.first_best_epoch:
            return False
        return finished - max(int(self.best_epoch), self.first_best_epoch) >= self.patience

    def on_epoch_begin(self, epoch, logs=None):
        if self.step_offset:  # resumed within this epoch: its running means go on
            for tracker, saved in zip(self.trackers, self.tracker_state):
                tracker.assign(saved)

    def on_train_batch_end(self, batch, logs=None):
        step = self.step_offset + batch + 1
        epoch = int(self.epoch) + 1
        loss = float(logs["loss"])
        if not math.isfinite(loss):
            self.model.stop_training = True
            raise NonFiniteLossError(
                f"the training loss is {loss} at step {step} of epoch {epoch}; stopped before "
                f"saving it. {self.run.last_checkpoints} keeps the last good checkpoint "
                f"({self._saved_position()}). Lower --learning_rate, or pass "
                "--skip_nonfinite_steps to skip such steps."
            )
        last_of_epoch = batch + 1 == (self.params or {}).get("steps")  # `on_epoch_end` saves it
        if self.every_steps and step % self.every_steps == 0 and not last_of_epoch:
            for tracker, saved in zip(self.trackers, self.tracker_state):
                saved.assign(tracker)
            self.step.assign(step)
            _save(self.last, optimizer_step(self.recommender))

    def on_epoch_end(self, epoch, logs=None):
        score = float(logs[BEST_METRIC])
        if epoch >= self.first_best_epoch and score > float(self.best_score):
            self.best_score.assign(score)
            self.best_epoch.assign(epoch + 1)
            path = _save(self.best, optimizer_step(self.recommender))
            logging.info("New best %s %.5f after epoch %d: %s", BEST_METRIC, score, epoch + 1, path)
        self.epoch.assign(epoch + 1)
        self.step.assign(0)
        self.step_offset = 0
        _save(self.last, optimizer_step(self.recommender))
        if self.stopped_early():
            self.model.stop_training = True
            logging.info(
                "Early stop after epoch %d: %s has not improved for %d epochs (best: epoch %d)",
                epoch + 1,
                BEST_METRIC,
                self.patience,
                int(self.best_epoch),
            )

    def _saved_position(self) -> str:
        if self.last.latest_checkpoint is None:
            return "none yet"
        epoch, step = int(self.epoch), int(self.step)
        return f"step {step} of epoch {epoch + 1}" if step else f"after epoch {epoch}"


def _checkpoint_manager(checkpoint, directory: str):
    """`CheckpointManager` of `directory`, keeping 1; an unreadable index is a `CheckpointError`
    (TensorFlow would ignore it, and the run would start afresh over its checkpoints)."""
    index = os.path.join(directory, "checkpoint")
    if os.path.exists(index):
        try:
            state = tf.train.get_checkpoint_state(directory)
        except (tf.errors.OpError, ValueError):
            state = None
        if state is None or not state.model_checkpoint_path:
            raise CheckpointError(
                f"{index}: the checkpoint index cannot be read (corrupted or truncated); "
                f"nothing was changed. {_NOT_OVERWRITTEN}"
            )
    return tf.train.CheckpointManager(checkpoint, directory, max_to_keep=1)


def _save(manager, step: int) -> str:
    """Writes a checkpoint of `manager` as `ckpt-<step>`, the training step (optimizer updates)
    it holds, as TensorFlow numbers by the global step: the same name after a resume as in an
    uninterrupted run. Never the number of the checkpoint it replaces (a save never rewrites
    its files; a step is saved twice only if every update between was skipped as non-finite).
    Returns its path. A failed write (a full disk, a read-only directory) is a `RunDirError`
    naming the directory, and the previous checkpoint stays the latest."""
    latest = manager.latest_checkpoint
    if latest is not None:
        step = max(step, int(latest.rsplit("-", 1)[1]) + 1)
    try:
        return manager.save(checkpoint_number=step)
    except (tf.errors.OpError, OSError) as error:
        raise RunDirError(
            f"{manager.directory}: the checkpoint could not be written ({_first_line(error)}); the "
            "previous "
            "one is kept, continue with --resume once there is room"
        ) from None


def _remove_unfinished_writes(*directories: str) -> None:
    """Removes the `<prefix>_temp` files of checkpoint writes a killed run left behind."""
    for directory in directories:
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            path = os.path.join(directory, name)
            if name.endswith("_temp"):
                shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
                logging.info("Removed %s, a checkpoint write that did not finish", name)


def _has_tensor(path: str, key: str) -> bool:
    """Whether the checkpoint `path` holds `key` (False if it cannot be read: `_restore` says
    why)."""
    try:
        return tf.train.load_checkpoint(path).has_tensor(key)
    except (tf.errors.OpError, ValueError, IndexError):
        return True


def _restore(checkpoint, path: str, partial: bool = False):
    """Restores `path` into `checkpoint`; a missing, corrupted or truncated file, or one of
    another model, is a `CheckpointError` naming it."""
    try:
        status = checkpoint.restore(path)
        if partial:
            status.expect_partial()
        else:
            status.assert_existing_objects_matched()
    except (tf.errors.OpError, ValueError, AssertionError, IndexError, KeyError) as error:
        raise CheckpointError(
            f"{path}: the checkpoint cannot be restored ({_first_line(error)}); it may be corrupted or "
            f"truncated. {_NOT_OVERWRITTEN}"
        ) from None


_NOT_OVERWRITTEN = "Restore the run's files from a copy, or train a new run in another --run_dir."


def _first_line(error) -> str:
    """The first line of TensorFlow's message, for an error line of our own."""
    return str(error).strip().splitlines()[0][:300]
