"""What a run shows while it trains: progress lines off a terminal, log lines out of the bar."""

import logging

import keras
import pytest
from absl import logging as absl_logging

from skiprec_tf.progress import HoldLogsDuringEpoch, ProgressLogger, progress_callbacks


def test_progress_lines_on_a_terminal_or_not():
    terminal = progress_callbacks(terminal=True)
    assert [type(c) for c in terminal] == [keras.callbacks.ProgbarLogger, HoldLogsDuringEpoch]
    assert [type(c) for c in progress_callbacks(terminal=False)] == [ProgressLogger]


def test_a_progress_line_has_epoch_step_loss_elapsed_and_rate(monkeypatch):
    lines = []
    monkeypatch.setattr(absl_logging, "info", lambda fmt, *args: lines.append(fmt % args))
    progress = ProgressLogger(every_seconds=3600)
    progress.set_params({"epochs": 3, "steps": 10})
    progress.on_epoch_begin(1)
    progress.on_train_batch_end(0, {"loss": 2.5})
    assert lines == [], "not before every_seconds"
    progress.every_seconds = 0
    progress.on_train_batch_end(4, {"loss": 1.5})
    assert len(lines) == 1
    assert lines[0].startswith("Epoch 2/3: step 5/10, loss 1.5000, ")
    assert lines[0].endswith(" steps/s") and " s elapsed, " in lines[0]


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
