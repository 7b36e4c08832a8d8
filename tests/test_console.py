"""The console: what Ctrl-C says, and which log lines a user sees."""

import logging

from skiprec_tf.console import interrupted_message, is_own_record


def test_ctrl_c_says_what_was_saved_and_how_to_continue():
    assert interrupted_message("runs/a b", (3, 0), True) == (
        "Interrupted: saved the checkpoint of epoch 3; continue with: "
        "python -m skiprec_tf.main --run_dir='runs/a b' --resume"
    )
    assert interrupted_message("r", (3, 40), True).startswith(
        "Interrupted: saved the checkpoint of step 40 of epoch 4; continue with: "
    )
    assert interrupted_message("r", None, True).startswith(
        "Interrupted: nothing trained was saved yet; continue with: "
    )
    assert interrupted_message("r", None, False) == (
        "Interrupted before training started: nothing was saved in r"
    )
    assert interrupted_message(None, None, False) == (
        "Interrupted before training started: nothing was saved"
    )


def _record(path, level=logging.INFO):
    return logging.LogRecord("absl", level, path, 1, "message", None, None)


def test_tensorflows_and_keras_log_lines_are_hidden_but_errors():
    assert is_own_record(_record("/x/skiprec_tf/training/callbacks.py"))
    assert not is_own_record(_record("/venv/site-packages/tensorflow/python/checkpoint.py"))
    assert not is_own_record(_record("/venv/site-packages/keras/src/trainer.py", logging.WARNING))
    assert is_own_record(_record("/venv/site-packages/tensorflow/x.py", logging.ERROR))
