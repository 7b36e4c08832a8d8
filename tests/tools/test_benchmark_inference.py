"""tools/benchmark_inference.py on two tiny SkipRec runs (NextItNet+ and SASRec+ backbones), on
one thread: both tables print a row per model with positive speeds and latencies."""

import re

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
