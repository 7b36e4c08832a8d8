"""tools/compare_runs.py on hand-made run directories: the differences, and a refused pairing."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from skiprec_tf.training.run_dir import RunDir

# The second tier: each test runs the tool in a fresh process (TensorFlow's import).
pytestmark = pytest.mark.slow

_REPO = pathlib.Path(__file__).resolve().parents[2]
TEST = np.arange(12, dtype=np.int32).reshape(4, 3)


def _run(tmp_path, name, ranks, test=TEST):
    (tmp_path / name).mkdir()
    RunDir(tmp_path / name).write_test_ranks(
        {"model": np.array(ranks), "markov_chain": np.array([6, 6, 6, 6])}, test
    )
    return str(tmp_path / name)


def _compare(*models):
    return subprocess.run(
        [sys.executable, str(_REPO / "tools" / "compare_runs.py"), "--samples=500", *models],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": str(_REPO), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip


def test_prints_every_metric_with_its_interval(tmp_path):
    a = _run(tmp_path, "a", [1, 2, 10, 30])
    b = _run(tmp_path, "b", [1, 1, 10, 4])
    result = _compare(a, b, f"{a}:markov_chain")
    assert result.returncode == 0, result.stderr[-2000:]
    first, second = result.stdout.strip().split("\n\n")  # B against A, Markov against A
    lines = {line.split()[0]: line for line in first.splitlines()}
    # MRR@5: A 0.375, B 0.5625, B - A +0.1875 (+50.0%)
    assert lines["MRR@5"].split()[1:5] == ["0.3750", "0.5625", "+0.1875", "[+0.0000,"]
    assert "+50.0%" in lines["MRR@5"]
    assert f"{a}:markov_chain  against  {a}" in second


def test_runs_on_other_splits_are_refused(tmp_path):
    a = _run(tmp_path, "a", [1, 2, 3, 4])
    other = _run(tmp_path, "other", [1, 2, 3, 4], test=TEST + 1)
    result = _compare(a, other)
    assert result.returncode != 0
    assert "another split" in result.stderr and "Traceback" not in result.stderr
