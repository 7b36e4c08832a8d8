"""tools/benchmark_inference.py on two tiny SkipRec runs (NextItNet+ and SASRec+ backbones), on
one thread: both tables print a row per model with positive speeds and latencies."""

import os
import pathlib
import re
import sys

import numpy as np
import pytest
from tools_testing import run_tool

_NUMBER = r"(-?[\d.]+)x?"


def _rows(table: str, names, columns: int) -> dict:
    """`{name: [figures]}` of the table lines that start with one of `names`."""
    rows = {}
    for line in table.splitlines():
        for name in names:
            if line.startswith(name + " "):
                figures = re.findall(_NUMBER, line[len(name) :])
                assert len(figures) == columns, line
                rows[name] = [float(f) for f in figures]
    assert list(rows) == list(names), table
    return rows


@pytest.mark.slow
def test_benchmark_inference_of_two_tiny_runs(tiny_skiprec_run, tiny_sasrec_skiprec_run):
    result = run_tool(
        "benchmark_inference.py",
        f"--runs=NextItNet-RL={tiny_skiprec_run},SASRec-RL={tiny_sasrec_skiprec_run}",
        "--rounds=1", "--single_requests=5", "--inter_op_threads=1", "--intra_op_threads=1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "Threads: inter-op 1, intra-op 1." in out
    floor = re.search(r"Loader session: a signature that computes nothing takes ([\d.]+) ms", out)
    assert floor and float(floor.group(1)) > 0, out
    assert "45 test users, t - 1 = 9, 40 items; 1 rounds, 5 single requests" in out
    speedups, reachable = out.split("With every block skipped")
    names = ("NextItNet-RL", "SASRec-RL")
    # blocks, seq/s, speedup, ideal, ratio, p50, p99, speedup, ideal, ratio
    rows = _rows(speedups, names, 10)
    for row in rows.values():
        blocks, throughput, _, ideal, _, p50, p99, _, single_ideal, _ = row
        assert 0 <= blocks <= 4
        assert throughput > 0 and ideal > 0 and single_ideal > 0
        assert 0 < p50 <= p99
        assert all(figure > 0 for figure in row[1:])
    base = rows["NextItNet-RL"]
    assert (base[2], base[3], base[7]) == (1.0, 1.0, 1.0)  # the baseline against itself
    # seq/s, reachable, p50 ms, reachable (a ratio from a noisy difference: only parsed)
    for row in _rows(reachable, names, 4).values():
        assert row[0] > 0 and row[2] > 0


@pytest.mark.slow
def test_beside_recbole_prints_its_throughput_and_latency(tiny_sasrec_skiprec_run):
    peer_python = os.environ.get("SKIPREC_PEER_PYTHON")
    if not peer_python:
        pytest.skip("SKIPREC_PEER_PYTHON (a python with recbole and torch) is not set")
    result = run_tool(
        "benchmark_inference.py", f"--runs=SASRec-RL={tiny_sasrec_skiprec_run}",
        "--rounds=2", "--single_requests=5", "--inter_op_threads=1", "--intra_op_threads=1",
        f"--peer_python={peer_python}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(
        r"RecBole SASRec \(recbole\.SASRec, .* torch threads 1; .*\): batch-256 (\d+) seq/s "
        r"\(passes (\d+), (\d+), (\d+), (\d+)\), p50 ([\d.]+) ms, p99 ([\d.]+) ms\. SASRec-RL "
        r"against it: throughput ([\d.]+)x, p50 latency ([\d.]+)x",
        result.stdout,
    )
    assert match, result.stdout
    figures = [float(f) for f in match.groups()]
    assert all(f > 0 for f in figures), figures
    assert figures[5] <= figures[6]  # p50 <= p99


def test_recbole_layout_moves_the_items_first_and_keeps_the_lengths():
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tools" / "peers"))
    from recbole_serve import right_aligned

    aligned, lengths = right_aligned(np.array([[0, 0, 5, 6], [1, 2, 3, 4], [0, 0, 0, 0]]))
    np.testing.assert_array_equal(aligned, [[5, 6, 0, 0], [1, 2, 3, 4], [0, 0, 0, 0]])
    np.testing.assert_array_equal(lengths, [2, 4, 1])  # an empty request reads position 0
