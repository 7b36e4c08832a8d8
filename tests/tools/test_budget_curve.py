"""tools/budget_curve.py on a tiny SkipRec run: the uncapped point is the run's own test accuracy,
a cap of 0 runs no block, a static point is measured beside the caps, and every point's ranks are
saved for paired comparisons."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from skiprec_tf.evaluation.compare import load_ranks
from skiprec_tf.training.run_dir import RunDir

_REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_budget_curve_of_a_tiny_run(tiny_skiprec_run, tmp_path):
    out = tmp_path / "budget.json"
    result = subprocess.run(
        [sys.executable, str(_REPO / "tools" / "budget_curve.py"), f"--run={tiny_skiprec_run}",
         "--fractions=1,0.5,0", f"--static=first block={tiny_skiprec_run}@first=1,common={tiny_skiprec_run}@most_common", "--rounds=1",
         "--single_requests=3", f"--out_json={out}", f"--ranks_dir={tmp_path / 'ranks'}", f"--out_png={tmp_path / 'budget.png'}"],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "PYTHONPATH": str(_REPO), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {row["name"]: row for row in json.loads(out.read_text())}
    assert list(rows) == ["cap 4", "cap 2", "cap 0", "first block", "common"]
    test = RunDir(tiny_skiprec_run).read_metrics()["test"]
    assert rows["cap 4"]["mrr_at_5"] == pytest.approx(test["mrr_at_5"], abs=1e-6)
    assert rows["cap 4"]["hr_at_20"] == pytest.approx(test["hr_at_20"], abs=1e-6)
    assert rows["cap 0"]["blocks_per_user"] == 0
    assert rows["cap 2"]["blocks_per_user"] <= 2
    assert rows["first block"]["blocks_per_user"] == 1 and rows["first block"]["kind"] == "static"
    assert "Most common policy of 240 training sequences" in result.stdout
    assert all(row["p50_ms"] > 0 and row["throughput"] > 0 for row in rows.values())
    assert "| cap 0 | 0 | 0.00 of 4 |" in result.stdout
    assert (tmp_path / "budget.png").stat().st_size > 0
    # The saved ranks are paired with the run's own: the uncapped point ranks every test target
    # as the run did, and each point's ranks give its table row.
    run_ranks, split = load_ranks(str(tiny_skiprec_run))
    (uncapped,), _ = load_ranks(str(tmp_path / "ranks" / "cap_4"), split)
    np.testing.assert_array_equal(uncapped, run_ranks[0])
    (first,), _ = load_ranks(str(tmp_path / "ranks" / "first_block"), split)
    assert np.mean(first <= 20) == pytest.approx(rows["first block"]["hr_at_20"], abs=1e-6)
