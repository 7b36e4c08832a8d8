"""tools/benchmark_skiprec_train.py on a tiny synthetic SkipRec-RL: it times the backbone, the
masked and the really skipping SkipRec-RL step in turns and prints their ratios and the policy's
block usage; a backbone flagfile is refused."""

import re

import pytest
from tools_testing import run_tool

_TINY = ["--data_format=synthetic", "--synthetic_users=300", "--synthetic_items=30", "--seq_len=10",
         "--embedding_dim=8", "--num_blocks=4", "--batch_size=64", "--cache_dir="]  # fmt: skip


@pytest.mark.slow
def test_benchmark_skiprec_train_times_the_three_steps_in_turns():
    result = run_tool(
        "benchmark_skiprec_train.py", "--model=skiprec_rl", *_TINY, "--threads=1", "--rounds=2",
        "--steps_per_round=2", "--warmup_steps=1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "backbone=nextitnet_plus d=8 blocks=4 t=10 batch=64 threads=1, 2 rounds of 2" in out
    rows = dict(re.findall(r"^\s*(.+?): +([\d.]+) ms/step \(median\)", out, re.MULTILINE))
    assert set(rows) == {"backbone", "SkipRec-RL masked", "SkipRec-RL skipping"}, out
    assert all(float(ms) > 0 for ms in rows.values())
    assert re.search(r"backbone: .* 1\.00x the backbone step", out)
    usage = re.search(r"sampled ([\d.]+), greedy ([\d.]+)", out)
    assert usage and 0.0 < float(usage.group(1)) < 1.0, out


@pytest.mark.slow
def test_benchmark_skiprec_train_refuses_a_backbone():
    result = run_tool("benchmark_skiprec_train.py", "--model=nextitnet_plus", *_TINY)
    assert result.returncode != 0
    assert "--model must be skiprec_rl, got nextitnet_plus" in result.stderr
