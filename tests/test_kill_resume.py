"""Crash safety: a run killed with SIGKILL at random moments (one during a checkpoint write) and
resumed each time ends with the weights, history and test metrics of a run never interrupted."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from skiprec_tf.training.run_dir import RunDir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# SkipRec-RL with dropout: the policy's samples and the dropout masks must resume too.
# 320 training sequences / 32 = 10 steps per epoch, a checkpoint after every step.
FLAGS = (
    "--data_format=synthetic", "--synthetic_users=400", "--synthetic_items=40", "--seq_len=12",
    "--model=skiprec_rl", "--embedding_dim=8", "--num_blocks=4", "--dropout=0.2",
    "--batch_size=32", "--eval_batch_size=128", "--epochs=5", "--seed=5",
    "--checkpoint_every_steps=1",
)  # fmt: skip
KILLS = 5


def _start(run_dir, log, *extra):
    """`python -m skiprec_tf.main` of the tiny run in the background, its output to `log`."""
    with open(log, "w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "skiprec_tf.main", *FLAGS, f"--run_dir={run_dir}", *extra],
            cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )  # fmt: skip


def _finish(process, log):
    process.wait(timeout=300)
    assert process.returncode == 0, log.read_text()[-3000:]


def _resumed_from(log) -> str:
    """Where a resumed run continued, from its 'Resumed from' log line."""
    lines = [line for line in log.read_text().splitlines() if "Resumed from" in line]
    return lines[0].split("saved after ")[-1] if lines else "the start (no checkpoint yet)"


def _index_mtime(run_dir):
    """The modification time of the run's checkpoint index, None before the first save."""
    index = os.path.join(RunDir(run_dir).last_checkpoints, "checkpoint")
    return os.path.getmtime(index) if os.path.exists(index) else None


def _writing(run_dir) -> bool:
    """Whether a checkpoint write is under way: TensorFlow writes `<prefix>_temp/` first (a
    resumed run removes those a killed one left)."""
    path = RunDir(run_dir).last_checkpoints
    return os.path.isdir(path) and any(name.endswith("_temp") for name in os.listdir(path))


def _kill(process) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


def _kill_during_training(process, run_dir, delay: float, during_write: bool):
    """SIGKILLs `process` `delay` seconds after its first checkpoint save, or at once when a
    checkpoint write is seen (`during_write`). Returns whether a write was under way, or None
    if the process finished first."""
    before, saved_at = _index_mtime(run_dir), None
    while process.poll() is None:
        writing = _writing(run_dir)
        if during_write and writing:
            _kill(process)
            return True
        if saved_at is None and _index_mtime(run_dir) != before:
            saved_at = time.monotonic()  # training has started and checkpoints
        if not during_write and saved_at and time.monotonic() - saved_at >= delay:
            _kill(process)
            return writing
        time.sleep(0.0002 if during_write else 0.005)
    return None


def _final_weights(run_dir):
    config, model, _ = RunDir(run_dir).load_model()
    del config
    path = tf.train.latest_checkpoint(RunDir(run_dir).last_checkpoints)
    tf.train.Checkpoint(model=model).restore(path).expect_partial()
    return {weight.path: weight.numpy() for weight in model.weights}


@pytest.mark.kill
def test_kill_at_random_moments_and_resume_ends_as_an_uninterrupted_run(tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    uninterrupted = _start(straight, tmp_path / "straight.log")  # beside the killed one
    rng = random.Random(15)
    kills, mid_write, logs = 0, 0, [tmp_path / "killed_0.log"]
    process = _start(killed, logs[0])
    while kills < KILLS:
        delay = rng.uniform(0.0, 0.8)
        outcome = _kill_during_training(process, killed, delay, during_write=kills == 0)
        assert outcome is not None, f"the run finished after {kills} kills: make it longer"
        kills, mid_write = kills + 1, mid_write + outcome
        logs.append(tmp_path / f"killed_{kills}.log")
        process = _start(killed, logs[-1], "--resume")
    _finish(process, logs[-1])
    _finish(uninterrupted, tmp_path / "straight.log")
    resumed_from = [_resumed_from(log) for log in logs[1:]]
    print(f"{kills} kills ({mid_write} during a checkpoint write); resumed from {resumed_from}")
    assert mid_write >= 1

    expected, resumed = _final_weights(straight), _final_weights(killed)
    for name in expected:
        np.testing.assert_array_equal(resumed[name], expected[name], err_msg=name)
    assert (killed / "history.csv").read_text() == (straight / "history.csv").read_text()
    metrics = [json.loads((run / "metrics.json").read_text()) for run in (straight, killed)]
    assert metrics[0]["test"] == metrics[1]["test"]
    assert metrics[0]["block_usage"] == metrics[1]["block_usage"]
