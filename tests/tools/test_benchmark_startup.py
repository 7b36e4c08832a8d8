"""tools/benchmark_startup.py on a tiny synthetic run: it starts new runs and resumes of every
variant, stops each at its first training step and prints the medians."""

import re

import pytest
from tools_testing import run_tool

_TINY = ("--data_format=synthetic --synthetic_users=300 --synthetic_items=30 --seq_len=10 "
         "--embedding_dim=8 --num_blocks=2 --batch_size=64 --cache_dir= --epochs=2")  # fmt: skip


@pytest.mark.slow
def test_benchmark_startup_times_new_runs_and_resumes_of_each_variant():
    result = run_tool(
        "benchmark_startup.py", f"--flags={_TINY}", "--variants=--jit_compile=false;", "--repeats=1"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert len(re.findall(r": new run [\d.]+ s", out)) == 2
    assert len(re.findall(r": resume [\d.]+ s", out)) == 2
    medians = re.findall(
        r"^(.+): first training step ([\d.]+) s after the command \(median\), ([\d.]+) s on --resume",
        out,
        re.MULTILINE,
    )
    assert [name for name, *_ in medians] == ["--jit_compile=false", "(flags)"], out
    assert all(float(new) > 0 and float(resumed) > 0 for _, new, resumed in medians)


@pytest.mark.slow
def test_benchmark_startup_reports_a_run_that_fails_before_its_first_step():
    result = run_tool("benchmark_startup.py", f"--flags={_TINY} --num_blocks=0", "--repeats=1")
    assert result.returncode != 0
    assert "no first step in" in result.stderr and "--num_blocks" in result.stderr
