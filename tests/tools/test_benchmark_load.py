"""tools/benchmark_load.py on a tiny export: it loads, replays the warm-up requests (or not) and
times the first requests."""

import os
import pathlib
import subprocess
import sys

import pytest

from skiprec_tf.serving.export import RecommenderServing, export_saved_model
from skiprec_tf.training.run_dir import RunDir

_REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def saved_model(tiny_skiprec_run, tmp_path_factory):
    config, model, item_ids = RunDir(tiny_skiprec_run).load_model()
    serving = RecommenderServing(model, item_ids, config.data.input_length)
    return export_saved_model(serving, str(tmp_path_factory.mktemp("export")), "m")


@pytest.mark.slow
@pytest.mark.parametrize("warmup", [True, False])
def test_benchmark_load_prints_load_warmup_and_first_requests(saved_model, warmup):
    result = subprocess.run(
        [sys.executable, str(_REPO / "tools" / "benchmark_load.py"), f"--saved_model={saved_model}",
         "--requests=2", "--warmup" if warmup else "--nowarmup"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": str(_REPO), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert ("warm-up:" in result.stdout) == warmup
    if warmup:
        assert "for 6 requests" in result.stdout  # 3 signatures x batch 1 and 2
    for line in ("load: ", "batch 1: first request ", "batch 256: first request "):
        assert line in result.stdout, line
