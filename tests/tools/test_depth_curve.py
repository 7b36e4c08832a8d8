"""tools/depth_curve.py on hand-made run directories: means per backbone and depth, a PNG."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from skiprec_tf.config import ModelConfig, RunConfig
from skiprec_tf.training.run_dir import RunDir

# The second tier: each test runs the tool in a fresh process (TensorFlow's import).
pytestmark = pytest.mark.slow

_REPO = pathlib.Path(__file__).resolve().parents[2]
TEST = np.arange(12, dtype=np.int32).reshape(4, 3)


def _run(tmp_path, name, model: str, blocks: int, mrr: float, test=TEST):
    run = RunDir(tmp_path / name)
    run.write_config(RunConfig(model=ModelConfig(model=model, num_blocks=blocks)))
    metrics = {"test": {"mrr_at_5": mrr, "hr_at_20": 2 * mrr}}
    metrics["markov_chain"] = {"mrr_at_5": 0.05, "hr_at_20": 0.2}
    run.write_metrics(metrics)
    run.write_test_ranks({"model": np.array([1, 2, 3, 4])}, test)
    return run.path


def _curve(tmp_path, pattern):
    return subprocess.run(
        [sys.executable, str(_REPO / "tools" / "depth_curve.py"), f"--runs={pattern}",
         f"--out_png={tmp_path / 'depth.png'}"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": str(_REPO), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip


def test_means_over_seeds_per_backbone_and_depth(tmp_path):
    _run(tmp_path, "n2_s0", "nextitnet_plus", 2, 0.01)
    _run(tmp_path, "n2_s1", "nextitnet_plus", 2, 0.03)
    _run(tmp_path, "n8_s0", "nextitnet_plus", 8, 0.04)
    _run(tmp_path, "s2_s0", "sasrec_plus", 2, 0.06)
    result = _curve(tmp_path, f"{tmp_path}/*_s*")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert "| nextitnet_plus | 2 | 2 | 0.0200 | 0.0400 |" in rows
    assert "| nextitnet_plus | 8 | 1 | 0.0400 | 0.0800 |" in rows
    assert "| sasrec_plus | 2 | 1 | 0.0600 | 0.1200 |" in rows
    assert "| Markov chain | | | 0.0500 | 0.2000 |" in rows
    assert (tmp_path / "depth.png").read_bytes()[:4] == b"\x89PNG"


def test_runs_on_other_splits_are_refused(tmp_path):
    _run(tmp_path, "a_s0", "nextitnet_plus", 2, 0.01)
    _run(tmp_path, "b_s0", "nextitnet_plus", 4, 0.01, test=TEST + 1)
    result = _curve(tmp_path, f"{tmp_path}/*_s0")
    assert result.returncode != 0 and "different splits" in result.stderr
    assert not (tmp_path / "depth.png").exists()
