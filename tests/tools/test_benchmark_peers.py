"""tools/benchmark_peers.py on a tiny case: a row per model with positive figures, the project
alone, and beside RecBole when SKIPREC_PEER_PYTHON names a python with recbole and torch."""

import os
import re

import pytest
from tools_testing import run_tool

_TINY = [
    "--models=nextitnet_plus,sasrec_plus", "--embedding_dim=8", "--num_blocks=2",
    "--synthetic_items=30", "--synthetic_users=40", "--seq_len=6", "--batch_size=16",
    "--warmup_steps=1", "--steps=2", "--rounds=2",
]  # fmt: skip
_NUMBER = r"([\d,]+|-)"


def _run_tool(*args):
    result = run_tool("benchmark_peers.py", *_TINY, *args, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _rows(stdout):
    """`{model: (peer, project seq/s, peer seq/s, project MiB, peer MiB)}` of the table."""
    rows = {}
    for model in ("nextitnet_plus", "sasrec_plus"):
        pattern = rf"^{model}\s+(\S+)\s+{_NUMBER}\s+{_NUMBER}\s+\S+\s+{_NUMBER}\s+{_NUMBER}\s+\S+$"
        match = re.search(pattern, stdout, re.MULTILINE)
        assert match, f"no row of {model} in:\n{stdout}"
        peer, *figures = match.groups()
        rows[model] = (peer, *(None if f == "-" else float(f.replace(",", "")) for f in figures))
    return rows


@pytest.mark.slow
def test_project_alone_gives_a_row_per_model_with_positive_figures():
    stdout = _run_tool()
    assert "V=30 items (synthetic, 40 sequences), t=6, d=8, 2 blocks" in stdout
    for model, (peer, project_speed, peer_speed, project_mib, peer_mib) in _rows(stdout).items():
        assert peer == "-" and peer_speed is None and peer_mib is None, model
        assert project_speed > 0 and project_mib > 0, model
    assert stdout.count(" project: seq/s ") == 2  # the rounds of each model
    # NextItNet+'s float32 ceiling, timed in the same rounds, at or above what the project reaches.
    match = re.search(
        r"nextitnet_plus: the step's matmuls alone \(float32 ceiling\) ([\d,]+) seq/s .*; "
        r"project (\d+)% of it, peer -",
        stdout,
    )
    assert match, stdout
    assert float(match.group(1).replace(",", "")) > 0 and 0 < int(match.group(2))
    assert "sasrec_plus: the step's matmuls alone" not in stdout


@pytest.mark.slow
def test_beside_recbole_gives_both_sides_and_their_ratios():
    peer_python = os.environ.get("SKIPREC_PEER_PYTHON")
    if not peer_python:
        pytest.skip("SKIPREC_PEER_PYTHON (a python with recbole and torch) is not set")
    stdout = _run_tool(f"--peer_python={peer_python}")
    rows = _rows(stdout)
    assert rows["nextitnet_plus"][0] == "NextItNet" and rows["sasrec_plus"][0] == "SASRec"
    for model, (_, *figures) in rows.items():
        assert all(f is not None and f > 0 for f in figures), (model, figures)
    # Both sides' first step: the full softmax over V + 1 = 31 ids, near ln 31 = 3.43.
    losses = [float(x) for x in re.findall(r"first-step loss ([\d.]+)", stdout)]
    assert len(losses) == 4 and all(abs(loss - 3.43) < 0.3 for loss in losses), losses
