"""Keras callbacks of what a run shows while training: progress lines, progress bar, history."""

import logging
import time

import keras
from absl import logging as absl_logging

PROGRESS_SECONDS = 30.0  # between two progress lines when stdout is not a terminal


def progress_callbacks(terminal: bool, every_seconds: float = PROGRESS_SECONDS) -> list:
    """On a terminal, Keras' progress bar with the log lines of an epoch held until its line ends
    (`HoldLogsDuringEpoch` after the bar); otherwise a progress line every `every_seconds`
    (`ProgressLogger`), as Keras' `verbose=2` prints only one line per epoch."""
    if terminal:
        return [keras.callbacks.ProgbarLogger(), HoldLogsDuringEpoch()]
    return [ProgressLogger(every_seconds)]


class ProgressLogger(keras.callbacks.Callback):
    """Logs `Epoch e/E: step s/S, loss L, T s elapsed, R steps/s` at most every `every_seconds`
    during an epoch (the first one can take minutes with no other sign of life)."""

    def __init__(self, every_seconds: float = PROGRESS_SECONDS):
        super().__init__()
        self.every_seconds = every_seconds

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        self.epoch_start = self.last_line = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        now = time.monotonic()
        if now - self.last_line < self.every_seconds:
            return
        self.last_line = now
        elapsed, steps = now - self.epoch_start, batch + 1
        loss = float((logs or {}).get("loss", float("nan")))
        absl_logging.info(
            "Epoch %d/%s: step %d/%s, loss %.4f, %.0f s elapsed, %.2f steps/s",
            self.epoch,
            self.params.get("epochs", "?"),
            steps,
            self.params.get("steps") or "?",
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
    """Keras' `CSVLogger` with epochs counted from 1, like the console, the log and the
    checkpoints."""

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch + 1, logs)
