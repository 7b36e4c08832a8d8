"""Keras callbacks of what a run shows while training: progress lines, progress bar, history."""

import logging
import time

import keras
from absl import logging as absl_logging

PROGRESS_SECONDS = 30.0  # between two progress lines when stdout is not a terminal


def progress_callbacks(
    terminal: bool, start_step: int = 0, epochs=None, every_seconds: float = PROGRESS_SECONDS
) -> list:
    """On a terminal, Keras' progress bar with the log lines of an epoch held until its line ends
    (`HoldLogsDuringEpoch` after the bar); otherwise a progress line every `every_seconds`
    (`ProgressLogger`), as Keras' `verbose=2` prints only one line per epoch.

    A `fit` that resumes an epoch after its `start_step`-th step counts the steps of the whole
    epoch (step 5/13, not 1/9), and of the run's `epochs`, not those of this `fit`."""
    if terminal:
        return [EpochProgbar(start_step, epochs), HoldLogsDuringEpoch()]
    return [ProgressLogger(every_seconds, start_step, epochs)]


class EpochProgbar(keras.callbacks.ProgbarLogger):
    """Keras' progress bar, counting the steps and epochs of the run (see `progress_callbacks`)."""

    def __init__(self, start_step: int = 0, epochs=None):
        super().__init__()
        self.start_step, self.run_epochs = start_step, epochs

    def set_params(self, params):
        super().set_params(params)
        self.epochs = self.run_epochs or self.epochs
        if self.target is not None:
            self.target += self.start_step

    def _update_progbar(self, batch, logs=None):
        super()._update_progbar(batch + self.start_step, logs)


class ProgressLogger(keras.callbacks.Callback):
    """Logs `Epoch e/E: step s/S, loss L, T s elapsed, R steps/s` at most every `every_seconds`
    during an epoch (the first one can take minutes with no other sign of life); steps and
    epochs as `progress_callbacks` says, the rate that of this process. The end of the process's
    first step, which traces (and with XLA compiles) the step, is logged with its time."""

    def __init__(self, every_seconds: float = PROGRESS_SECONDS, start_step: int = 0, epochs=None):
        super().__init__()
        self.every_seconds = every_seconds
        self.start_step, self.run_epochs = start_step, epochs

    def on_train_begin(self, logs=None):
        self.train_start, self.first_step = time.monotonic(), True

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        self.epoch_start = self.last_line = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        now = time.monotonic()
        if self.first_step:
            self.first_step = False
            absl_logging.info(
                "First training step done %.1f s after training started (tracing the step)",
                now - self.train_start,
            )
        if now - self.last_line < self.every_seconds:
            return
        self.last_line = now
        elapsed, steps = now - self.epoch_start, batch + 1
        total = self.params.get("steps")
        loss = float((logs or {}).get("loss", float("nan")))
        absl_logging.info(
            "Epoch %d/%s: step %d/%s, loss %.4f, %.0f s elapsed, %.2f steps/s",
            self.epoch,
            self.run_epochs or self.params.get("epochs", "?"),
            self.start_step + steps,
            self.start_step + total if total else "?",
            loss,
            elapsed,
            steps / elapsed,
        )


class HoldLogsDuringEpoch(keras.callbacks.Callback, logging.Filter):
    """Holds absl's log lines from the start of an epoch until its end, then writes them, so that
    none lands in the middle of Keras' progress bar ("New best ..." is logged before the bar's
    last update). Put it after the `ProgbarLogger`."""

    def __init__(self):
        keras.callbacks.Callback.__init__(self)
        logging.Filter.__init__(self)
        self.held = []

    def filter(self, record):
        self.held.append(record)
        return False

    def on_epoch_begin(self, epoch, logs=None):
        absl_logging.get_absl_handler().addFilter(self)

    def on_epoch_end(self, epoch, logs=None):
        self._release()

    def on_train_end(self, logs=None):
        self._release()

    def _release(self):
        handler = absl_logging.get_absl_handler()
        handler.removeFilter(self)
        held, self.held = self.held, []
        for record in held:
            handler.handle(record)


class EpochCSVLogger(keras.callbacks.CSVLogger):
    """Keras' `CSVLogger` with epochs counted from 1, like the console and the log."""

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch + 1, logs)
