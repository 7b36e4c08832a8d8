"""tools/peer_accuracy.py: the sequences RecBole's models read (no RecBole needed), and, when
SKIPREC_PEER_PYTHON names a python with recbole and torch, a tiny run that compare_runs.py pairs
with the project's runs, resumed after an interrupted epoch."""

import os
import subprocess
import sys

import numpy as np
import pytest
from tools_testing import REPO, run_tool

from skiprec_tf.training.run_dir import RunDir

sys.path.insert(0, str(REPO / "tools" / "peers"))
import recbole_fit  # a peer-side script: numpy only until it trains

_TINY = [
    "--flagfile=flags/synthetic_plus.cfg", "--synthetic_users=300", "--synthetic_items=40",
    "--seq_len=12", "--embedding_dim=8", "--num_blocks=2", "--batch_size=32", "--patience=0",
]  # fmt: skip
ROWS = np.array([[0, 0, 3, 4, 5], [1, 2, 3, 4, 5], [0, 0, 0, 7, 9]])


def test_right_aligned_keeps_each_rows_items_in_order_with_the_padding_after():
    np.testing.assert_array_equal(
        recbole_fit.right_aligned(ROWS), [[3, 4, 5, 0, 0], [1, 2, 3, 4, 5], [7, 9, 0, 0, 0]]
    )


@pytest.mark.parametrize("rows", [ROWS, recbole_fit.right_aligned(ROWS)])
def test_last_items_are_the_targets_and_leave_the_items_before_them(rows):
    targets, prefixes = recbole_fit.last_items(rows)
    np.testing.assert_array_equal(targets, [5, 5, 9])
    # What the model reads, prefixes[:, :-1], holds every item before the target, not the target.
    for prefix, row in zip(prefixes[:, :-1], rows):
        np.testing.assert_array_equal(prefix[prefix != 0], row[row != 0][:-1])


def _peer_python():
    peer_python = os.environ.get("SKIPREC_PEER_PYTHON")
    if not peer_python:
        pytest.skip("SKIPREC_PEER_PYTHON (a python with recbole and torch) is not set")
    return peer_python


@pytest.mark.slow
@pytest.mark.parametrize("peer_model", ["sasrec_plus", "nextitnet_plus", "gru4rec", "caser"])
def test_a_peer_run_pairs_with_the_projects_runs_and_resumes(tmp_path, peer_model):
    peer_python = _peer_python()
    run_dir = tmp_path / "peer"
    flags = [*_TINY, f"--peer_model={peer_model}", f"--peer_python={peer_python}",
             f"--run_dir={run_dir}"]  # fmt: skip
    # Interrupted after epoch 1 of 2: a run of --epochs=1 leaves its checkpoint when the
    # result file cannot be written.
    run_dir.mkdir()
    (run_dir / "peer_result.npz.tmp.npz").mkdir()  # np.savez fails on a directory
    first = run_tool("peer_accuracy.py", *flags, "--epochs=1", timeout=600)
    assert first.returncode != 0 and os.path.exists(run_dir / "peer_result.npz.checkpoint.pt")
    (run_dir / "peer_result.npz.tmp.npz").rmdir()
    result = run_tool("peer_accuracy.py", *flags, "--epochs=2", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Resumed after epoch 1" in result.stdout
    metrics = RunDir(run_dir).read_metrics()
    assert metrics["epochs"] == 2 and metrics["best_epoch"] in (1, 2)
    assert 0 < metrics["test"]["mrr_at_5"] <= metrics["test"]["hr_at_20"] <= 1

    # A project run on the same split pairs with it; the same tool again reuses the run.
    project = tmp_path / "project"
    trained = subprocess.run(
        [sys.executable, "-m", "skiprec_tf.main", *_TINY, "--epochs=1", f"--run_dir={project}"],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr[-3000:]
    compared = run_tool("compare_runs.py", "--samples=200", str(project), str(run_dir))
    assert compared.returncode == 0, compared.stderr[-3000:]
    assert f"{run_dir}  against  {project}" in compared.stdout
    again = run_tool("peer_accuracy.py", *flags, "--epochs=2")
    assert again.returncode == 0 and "Resumed" not in again.stdout and str(run_dir) in again.stdout
