"""What a user sees on the console: TensorFlow's start-up noise hidden, Ctrl-C as one line.

Only `main` calls this module, with what it read from the flags.
"""

import logging
import os
import shlex
import signal
import sys
import threading
import warnings

INTERRUPTED_EXIT_CODE = 130  # 128 + SIGINT, as a shell reports a Ctrl-C


def import_tensorflow_quietly(verbosity: int) -> None:
    """Imports TensorFlow and Keras and finds the devices, hiding what they print meanwhile (a
    doubled banner, "failed call to cuInit" on a machine without a GPU), and TensorFlow's later
    C++ warnings (XLA's "Ignoring Assert operator") and Python warnings; all of it stays with
    `verbosity` (absl's --verbosity) above 0."""
    if verbosity > 0:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # must be set before TensorFlow loads
    warnings.filterwarnings("ignore", module=r"(tensorflow|keras)(\.|$)")
    # The banner is written by C++ before TensorFlow reads TF_CPP_MIN_LOG_LEVEL: silence the
    # file descriptor itself while it loads.
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def is_own_record(record: logging.LogRecord) -> bool:
    """Whether a log record is the project's (or an error): a filter for absl's handler that
    drops TensorFlow's and Keras' INFO and WARNING lines (one per checkpoint write, ...)."""
    if record.levelno >= logging.ERROR:
        return True
    path = record.pathname.replace(os.sep, "/")
    return "/tensorflow/" not in path and "/keras/" not in path


def stop_on_interrupt(message) -> None:
    """Makes Ctrl-C (SIGINT) end the process at once: `message()` (one line) on stderr, then exit
    code 130, without a traceback or the 20-45 s TensorFlow takes to unwind a `KeyboardInterrupt`.

    Call it before TensorFlow starts its threads: SIGINT is blocked in this thread, and so in every
    thread started later, and a watcher thread waits for it. A checkpoint being written when the
    signal comes is not damaged: TensorFlow writes the `checkpoint` index last, so the previous one
    stays the latest.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})

    def watch():
        signal.sigwait({signal.SIGINT})
        try:
            line = message()
        except Exception as error:  # noqa: BLE001 -- the process ends anyway: say why
            line = f"Interrupted ({error})"
        sys.stdout.flush()
        print(line, file=sys.stderr, flush=True)
        os._exit(INTERRUPTED_EXIT_CODE)

    threading.Thread(target=watch, name="stop_on_interrupt", daemon=True).start()


def interrupted_message(run_dir, position, has_config: bool) -> str:
    """The line Ctrl-C prints: what the run saved and how to continue it.

    Args:
      run_dir: the run directory, or None before the flags have given one.
      position: (finished epochs, steps finished of the next epoch) of the run's last
        checkpoint, or None.
      has_config: whether the run directory holds its config.json (a run to resume).
    """
    if run_dir is None or not has_config:
        where = f" in {run_dir}" if run_dir else ""
        return f"Interrupted before training started: nothing was saved{where}"
    command = f"python -m skiprec_tf.main --run_dir={shlex.quote(str(run_dir))} --resume"
    if position is None:
        saved = "nothing trained was saved yet"
    elif position[1]:
        saved = f"saved the checkpoint of step {position[1]} of epoch {position[0] + 1}"
    else:
        saved = f"saved the checkpoint of epoch {position[0]}"
    return f"Interrupted: {saved}; continue with: {command}"
