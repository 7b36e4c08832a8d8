"""Keras callbacks of a run: TensorBoard's scalars and the policy's warm-up and curriculum (the
checkpoints: `training_state.py`)."""

import keras
import tensorflow as tf

from skiprec_tf.training.run_dir import optimizer_step


class TensorBoardLogger(keras.callbacks.Callback):
    """Writes `train/loss` every `every_steps` steps, and per epoch `train/epoch_<log>` (loss,
    block usage), `train/learning_rate` and `valid/<metric>`, all at the optimizer's step."""

    def __init__(self, log_dir: str, every_steps: int = 10):
        super().__init__()
        self.writer = tf.summary.create_file_writer(log_dir)
        self.every_steps = every_steps

    def _step(self) -> int:
        return optimizer_step(self.model)

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
