"""What a run shows while it trains: progress lines off a terminal, log lines out of the bar."""

import logging
import re

import keras
import pytest
from absl import logging as absl_logging

from skiprec_tf.training.progress import (
    EpochProgbar,
    HoldLogsDuringEpoch,
    ProgressLogger,
    progress_callbacks,
)


def test_progress_lines_on_a_terminal_or_not():
    terminal = progress_callbacks(terminal=True)
    assert [type(c) for c in terminal] == [EpochProgbar, HoldLogsDuringEpoch]
    assert isinstance(terminal[0], keras.callbacks.ProgbarLogger)
    assert [type(c) for c in progress_callbacks(terminal=False)] == [ProgressLogger]


def test_a_progress_line_has_epoch_step_loss_elapsed_and_rate(monkeypatch):
    lines = []
    monkeypatch.setattr(absl_logging, "info", lambda fmt, *args: lines.append(fmt % args))
    progress = ProgressLogger(every_seconds=3600)
    progress.set_params({"epochs": 3, "steps": 10})
    progress.on_train_begin()
    progress.on_epoch_begin(1)
    progress.on_train_batch_end(0, {"loss": 2.5})
    progress.on_train_batch_end(1, {"loss": 2.5})
    assert len(lines) == 1, "only the first step's line before every_seconds"
    assert re.fullmatch(
        r"First training step done [\d.]+ s after training started \(tracing the step\)", lines[0]
    )
    progress.every_seconds = 0
    progress.on_train_batch_end(4, {"loss": 1.5})
    assert len(lines) == 2
    assert lines[1].startswith("Epoch 2/3: step 5/10, loss 1.5000, ")
    assert lines[1].endswith(" steps/s") and " s elapsed, " in lines[1]


def test_a_resumed_epoch_counts_the_steps_and_epochs_of_the_run(monkeypatch, capsys):
    lines = []
    monkeypatch.setattr(absl_logging, "info", lambda fmt, *args: lines.append(fmt % args))
    # The rest of epoch 3 of 20 after 4 of its 13 steps: this `fit` has 9 steps and 3 epochs.
    progress = ProgressLogger(every_seconds=0, start_step=4, epochs=20)
    progress.set_params({"epochs": 3, "steps": 9})
    progress.on_train_begin()
    progress.on_epoch_begin(2)
    progress.on_train_batch_end(0, {"loss": 1.5})
    assert lines[1].startswith("Epoch 3/20: step 5/13, loss 1.5000, ")
    bar = EpochProgbar(start_step=4, epochs=20)
    bar.set_params({"epochs": 3, "steps": 9, "verbose": 1})
    bar.on_epoch_begin(2)
    bar.on_train_batch_end(0, {"loss": 1.5})
    bar.on_train_batch_end(8, {"loss": 1.5})
    bar.on_epoch_end(2, {"loss": 1.5})
    out = capsys.readouterr().out
    assert "Epoch 3/20" in out and "13/13" in out and "9/9" not in out, out
    assert bar.progbar.target == 13


@pytest.fixture
def absl_info():
    """absl's INFO lines written by its handler, as under `app.run`; as before afterwards."""
    verbosity = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.INFO)
    handler = absl_logging.get_absl_handler()
    logging.root.addHandler(handler)
    yield
    logging.root.removeHandler(handler)
    absl_logging.set_verbosity(verbosity)


def test_log_lines_of_an_epoch_wait_for_its_end(monkeypatch, absl_info):
    handler = absl_logging.get_absl_handler()
    written = []
    monkeypatch.setattr(
        handler.python_handler, "emit", lambda record: written.append(record.getMessage())
    )
    hold = HoldLogsDuringEpoch()
    hold.on_epoch_begin(0)
    absl_logging.info("New best after epoch %d", 1)
    assert written == [] and len(hold.held) == 1
    hold.on_epoch_end(0)
    assert written == ["New best after epoch 1"] and hold.held == []
    absl_logging.info("after the epoch")
    assert written[-1] == "after the epoch"
    assert hold not in handler.filters
