"""Keras callbacks of a run: resumable checkpoints, best-by-validation checkpoint, TensorBoard."""

import keras
import tensorflow as tf
from absl import logging

from skiprec_tf.run_dir import RunDir

BEST_METRIC = "val_mrr_at_5"


class TrainingState(keras.callbacks.Callback):
    """Checkpoints everything a resumed run needs, and the best model by validation MRR@5.

    The run's `checkpoints/last` holds the model, the optimizer, the number of finished epochs,
    the best validation score and its epoch, written after every epoch; its `checkpoints/best`
    holds the model of the best epoch. TensorFlow writes the checkpoint files first and the
    `checkpoint` index last, atomically, so an interrupted write never replaces a good one.

    With `patience`, training stops (early stopping) once the best score is `patience` epochs
    old; a resumed run that had stopped stays stopped.
    """

    def __init__(
        self, run: RunDir, model: keras.Model, first_best_epoch: int = 0, patience: int = 0
    ):
        """`first_best_epoch`: earlier epochs (a policy warm-up or curriculum) never count as best;
        `patience`: epochs without a better score before training stops (0: never)."""
        super().__init__()
        self.run = run
        self.first_best_epoch = first_best_epoch
        self.patience = patience
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.best_score = tf.Variable(-1.0, dtype=tf.float64, trainable=False, name="best_score")
        self.best_epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="best_epoch")
        optimizers = {"optimizer": model.optimizer}
        if getattr(model, "policy_optimizer", None) is not None:
            optimizers["policy_optimizer"] = model.policy_optimizer
        last = tf.train.Checkpoint(
            model=model,
            **optimizers,
            epoch=self.epoch,
            best_score=self.best_score,
            best_epoch=self.best_epoch,
        )
        self.last = tf.train.CheckpointManager(last, run.last_checkpoints, 1)
        self.best = tf.train.CheckpointManager(
            tf.train.Checkpoint(model=model), run.best_checkpoints, 1
        )

    def restore_last(self) -> int:
        """Restores the latest checkpoint, if any; returns the number of finished epochs."""
        if self.last.latest_checkpoint is None:
            return 0
        self.last.checkpoint.restore(self.last.latest_checkpoint).assert_existing_objects_matched()
        logging.info("Resumed from %s after epoch %d", self.last.latest_checkpoint, int(self.epoch))
        return int(self.epoch)

    def restore_best(self) -> None:
        """Loads the weights of the best validation epoch (else the last) into the model."""
        path = self.run.model_checkpoint()
        if path is None:
            raise FileNotFoundError("no checkpoint to restore")
        self.best.checkpoint.restore(path).expect_partial()
        logging.info("Restored the best model from %s", path)

    def stopped_early(self) -> bool:
        """Whether the best score is `patience` epochs old (always False without patience)."""
        finished = int(self.epoch)
        if not self.patience or finished <= self.first_best_epoch:
            return False
        return finished - max(int(self.best_epoch), self.first_best_epoch) >= self.patience

    def on_epoch_end(self, epoch, logs=None):
        score = float(logs[BEST_METRIC])
        if epoch >= self.first_best_epoch and score > float(self.best_score):
            self.best_score.assign(score)
            self.best_epoch.assign(epoch + 1)
            self.best.save(checkpoint_number=epoch + 1)
            logging.info("New best %s %.5f after epoch %d", BEST_METRIC, score, epoch + 1)
        self.epoch.assign(epoch + 1)
        self.last.save(checkpoint_number=epoch + 1)
        if self.stopped_early():
            self.model.stop_training = True
            logging.info(
                "Early stop after epoch %d: %s has not improved for %d epochs (best: epoch %d)",
                epoch + 1,
                BEST_METRIC,
                self.patience,
                int(self.best_epoch),
            )


class TensorBoardLogger(keras.callbacks.Callback):
    """Writes `train/loss` every `every_steps` steps, and per epoch `train/epoch_<log>` (loss,
    block usage), `train/learning_rate` and `valid/<metric>`, all at the optimizer's step."""

    def __init__(self, log_dir: str, every_steps: int = 10):
        super().__init__()
        self.writer = tf.summary.create_file_writer(log_dir)
        self.every_steps = every_steps

    def _step(self) -> int:
        return int(self.model.optimizer.iterations)

    def on_train_batch_end(self, batch, logs=None):
        step = self._step()
        if step % self.every_steps == 0:
            with self.writer.as_default():
                tf.summary.scalar("train/loss", float(logs["loss"]), step=step)

    def on_epoch_end(self, epoch, logs=None):
        step = self._step()
        with self.writer.as_default():
            learning_rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            tf.summary.scalar("train/learning_rate", learning_rate, step=step)
            for name, value in logs.items():
                if name.startswith("val_"):
                    tf.summary.scalar(f"valid/{name[4:]}", float(value), step=step)
                else:
                    tf.summary.scalar(f"train/epoch_{name}", float(value), step=step)
        self.writer.flush()


def controlled_blocks(epoch: int, num_blocks: int, warmup_epochs: int, curriculum_epochs: int):
    """0/1 `[N]`: the blocks the policy decides in `epoch` (the others are retained).

    None during the warm-up; then, with a curriculum of C epochs, the last ceil(N (e + 1) / C)
    blocks in its e-th epoch (BlockDrop's curriculum); afterwards all of them.
    """
    epoch -= warmup_epochs
    if epoch < 0:
        count = 0
    elif epoch >= curriculum_epochs:
        count = num_blocks
    else:
        count = -(-num_blocks * (epoch + 1) // curriculum_epochs)
    return [0.0] * (num_blocks - count) + [1.0] * count


class PolicySchedule(keras.callbacks.Callback):
    """Sets a SkipRec model's `controlled` blocks at the start of every epoch, and all of them at
    the end of training (evaluation and serving use the whole policy)."""

    def __init__(self, warmup_epochs: int = 0, curriculum_epochs: int = 0):
        super().__init__()
        self.warmup_epochs = warmup_epochs
        self.curriculum_epochs = curriculum_epochs

    @property
    def first_full_epoch(self) -> int:
        return self.warmup_epochs + self.curriculum_epochs

    def on_epoch_begin(self, epoch, logs=None):
        controlled = controlled_blocks(
            epoch, self.model.num_blocks, self.warmup_epochs, self.curriculum_epochs
        )
        self.model.controlled.assign(controlled)

    def on_train_end(self, logs=None):
        self.model.controlled.assign(tf.ones_like(self.model.controlled))
