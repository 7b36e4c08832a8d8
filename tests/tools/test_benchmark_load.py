"""tools/benchmark_load.py on a tiny export: it loads, replays the warm-up requests (or not) and
times the first requests."""

import os
import pathlib
import subprocess
import sys

import pytest

from skiprec_tf.config import DataConfig, ModelConfig, PolicyConfig, RunConfig, TrainConfig
from skiprec_tf.data.sources import load_data
from skiprec_tf.export import RecommenderServing, export_saved_model
from skiprec_tf.runs import load_run
from skiprec_tf.trainer import train_and_evaluate

_REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    run_dir = str(tmp_path_factory.mktemp("load") / "run")
    data = DataConfig(synthetic_users=300, synthetic_items=40, seq_len=10)
    config = RunConfig(
        data=data,
        model=ModelConfig(model="skiprec_rl", embedding_dim=8, num_blocks=2),
        policy=PolicyConfig(),
        train=TrainConfig(batch_size=32, epochs=1),
        run_dir=run_dir,
    )
    train_and_evaluate(config, load_data(data))
    _, model, item_ids = load_run(run_dir)
    return export_saved_model(
        RecommenderServing(model, item_ids, data.seq_len - 1),
        str(tmp_path_factory.mktemp("e")),
        "m",
    )


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
        assert "for 4 requests" in result.stdout
    for line in ("load: ", "batch 1: first request ", "batch 256: first request "):
        assert line in result.stdout, line
