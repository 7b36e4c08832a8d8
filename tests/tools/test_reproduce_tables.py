"""tools/reproduce_tables.py --preset=tiny: the runs trained, every number of the table taken from
them, the grid reused when run again, and a run of other settings refused."""

import json
import re

import numpy as np
import pytest
from tools_testing import run_tool

from skiprec_tf.evaluation.tables import TABLE_METRICS
from skiprec_tf.training.run_dir import RunDir


def _cells(text):
    """`{model: [cells]}` of the markdown table in `text`."""
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| ")]
    return {row[0].removeprefix("| "): row[1:] for row in rows[1:]}


@pytest.mark.slow
def test_the_tiny_preset_tables_come_from_its_runs(tmp_path):
    out = tmp_path / "tables"
    result = run_tool("reproduce_tables.py", "--preset=tiny", f"--out_dir={out}", timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    text = (out / "tables.md").read_text()
    assert text in result.stdout
    cells = _cells(text)
    assert list(cells) == ["MostPop", "Markov chain", "GRU4Rec", "NextItNet+", "RL w/ pre"]
    runs = {"GRU4Rec": "gru4rec", "NextItNet+": "nextitnet", "RL w/ pre": "rl_w_pre"}
    for model, row in cells.items():
        run = RunDir(str(out / f"{runs.get(model, 'nextitnet')}_seed0"))
        key = {"MostPop": "most_popular", "Markov chain": "markov_chain"}.get(model, "test")
        metrics = run.read_metrics()[key]
        assert row[0] == "1"  # one seed
        assert row[1:6] == [f"{metrics[name]:.4f}" for name in TABLE_METRICS]
    assert RunDir(str(out / "rl_w_pre_seed0")).read_config().policy.init_from == str(
        out / "nextitnet_seed0"
    )
    # The speedup is the measured ratio the tool printed.
    seconds = json.loads(
        re.search(r"seed 0: seconds per pass at batch 256: (\{.*\})", result.stdout)
        .group(1)
        .replace("'", '"')
    )
    assert cells["RL w/ pre"][6] == f"{seconds['NextItNet+'] / seconds['RL w/ pre']:.2f}×"
    assert cells["NextItNet+"][6] == "1.00×" and cells["GRU4Rec"][6] == "–"
    assert (out / "block_utilisation.png").read_bytes()[:4] == b"\x89PNG"

    # Run again: nothing is trained, the same figures come back.
    again = run_tool("reproduce_tables.py", "--preset=tiny", f"--out_dir={out}", timeout=900)
    assert again.returncode == 0 and "== [" not in again.stdout
    assert np.all([_cells(again.stdout)[m][:6] == cells[m][:6] for m in cells])

    # Other settings over the same out_dir: refused, naming the run and the flag.
    other = run_tool(
        "reproduce_tables.py", "--preset=tiny", f"--out_dir={out}",
        "--extra=--epochs=1 --embedding_dim=16 --num_blocks=4 --synthetic_users=300 "
        "--synthetic_items=40 --seq_len=10 --batch_size=64",
    )  # fmt: skip
    assert other.returncode != 0
    assert "trained with other settings" in other.stderr and "--embedding_dim" in other.stderr
