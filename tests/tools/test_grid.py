"""tools/grid.py on hand-made finished runs: the settings ranked by validation MRR@5 only."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

_REPO = pathlib.Path(__file__).resolve().parents[2]


def _finished(out_dir, name, valid, test):
    run = out_dir / name
    run.mkdir(parents=True)
    metrics = {"best_valid_mrr_at_5": valid, "test": {"mrr_at_5": test, "hr_at_20": 2 * test}}
    metrics["markov_chain"] = {"mrr_at_5": 0.03, "hr_at_20": 0.1}
    (run / "metrics.json").write_text(json.dumps(metrics))


def _grid(out_dir, *args):
    return subprocess.run(
        [sys.executable, str(_REPO / "tools" / "grid.py"), "--flagfile_base=flags/x.cfg",
         f"--out_dir={out_dir}", "--settings=--dropout=0;--dropout=0.4 --weight_decay=0.1",
         "--seeds=0,1", "--notrain", *args],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": str(_REPO), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip


@pytest.mark.slow
def test_ranks_settings_by_mean_validation_and_hides_test_figures(tmp_path):
    # The better test figure belongs to the setting with the worse validation score.
    _finished(tmp_path, "dropout=0_seed0", 0.020, 0.05)
    _finished(tmp_path, "dropout=0_seed1", 0.022, 0.05)
    _finished(tmp_path, "dropout=0.4_weight_decay=0.1_seed0", 0.030, 0.01)
    result = _grid(tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line.split() for line in result.stdout.splitlines() if line.strip()[:1].isdigit()]
    assert rows[0][:2] == ["0.0300", "1"] and rows[0][2:] == ["--dropout=0.4", "--weight_decay=0.1"]
    assert rows[1][:3] == ["0.0210", "2", "--dropout=0"]
    assert "test" not in result.stdout
    shown = _grid(tmp_path, "--show_test")
    assert "test MRR@5 0.0100 HR@20 0.0200   Markov 0.0300 / 0.1000" in shown.stdout
