"""tools/reproduce_tables.py --preset=tiny: the runs trained, every number of the table taken from
them, the grid reused when run again, and a run of other settings refused."""

import dataclasses
import json
import re
import shutil
import sys

import numpy as np
import pytest
from tools_testing import REPO, run_tool

from skiprec_tf.errors import ConfigError
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
    runs = {"GRU4Rec": "gru4rec", "NextItNet+": "nextitnet_plus", "RL w/ pre": "rl_w_pre"}
    for model, row in cells.items():
        run = RunDir(str(out / f"{runs.get(model, 'nextitnet_plus')}_seed0"))
        key = {"MostPop": "most_popular", "Markov chain": "markov_chain"}.get(model, "test")
        metrics = run.read_metrics()[key]
        assert row[0] == "1"  # one seed
        assert row[1:6] == [f"{metrics[name]:.4f}" for name in TABLE_METRICS]
    assert RunDir(str(out / "rl_w_pre_seed0")).read_config().policy.init_from == str(
        out / "nextitnet_plus_seed0"
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

    # The speedup is kept in the run, measured once.
    record = RunDir(str(out / "rl_w_pre_seed0")).read_served_speedup()
    assert record["speedup"] == pytest.approx(seconds["NextItNet+"] / seconds["RL w/ pre"])
    assert record["backbone"] == "../nextitnet_plus_seed0"

    # Run again: nothing is trained, the same figures come back.
    again = run_tool("reproduce_tables.py", "--preset=tiny", f"--out_dir={out}", timeout=900)
    assert again.returncode == 0 and "== [" not in again.stdout
    assert np.all([_cells(again.stdout)[m][:6] == cells[m][:6] for m in cells])

    # The grid's small files alone, elsewhere (as committed): the same table, speedups included,
    # with neither training nor timing.
    moved = tmp_path / "committed"
    shutil.copytree(out, moved, ignore=shutil.ignore_patterns("checkpoints", "tensorboard"))
    shutil.rmtree(out)
    from_files = run_tool("reproduce_tables.py", "--preset=tiny", f"--out_dir={moved}")
    assert from_files.returncode == 0, from_files.stderr[-3000:]
    assert "== [" not in from_files.stdout and "seconds per pass" not in from_files.stdout
    assert _cells(from_files.stdout) == cells
    out = moved

    # Other settings over the same out_dir: refused, naming the run and the flag.
    other = run_tool(
        "reproduce_tables.py", "--preset=tiny", f"--out_dir={out}",
        "--extra=--epochs=1 --embedding_dim=16 --num_blocks=4 --synthetic_users=300 "
        "--synthetic_items=40 --seq_len=10 --batch_size=64",
    )  # fmt: skip
    assert other.returncode != 0
    assert "trained with other settings" in other.stderr and "--embedding_dim" in other.stderr


def _tool():
    sys.path.insert(0, str(REPO / "tools"))
    import reproduce_tables

    return reproduce_tables


def test_a_run_of_other_settings_or_another_backbone_is_refused(tmp_path):
    """A reused or earlier run must have the row's settings, and a w/ pre run must start from
    the row's backbone run of its seed."""
    tool = _tool()
    reuse = [f"NextItNet+={tmp_path}/backbone_{{seed}}"]
    grid = tool.Grid(
        "synthetic", "cpu", ["NextItNet+", "RL w/ pre"], ["0"], str(tmp_path), [], reuse
    )
    run = RunDir(grid.path("RL w/ pre", "0"))
    arguments = grid.arguments("RL w/ pre", "0")
    assert f"--init_from={tmp_path}/backbone_0" in arguments
    run.write_config(tool.expected_config(arguments))
    tool.check_settings(run, arguments, "RL w/ pre")  # its own settings: accepted
    other_backbone = [a for a in arguments if not a.startswith("--init_from")]
    run.write_config(tool.expected_config([*other_backbone, f"--init_from={tmp_path}/other"]))
    with pytest.raises(ConfigError, match="--init_from"):
        tool.check_settings(run, arguments, "RL w/ pre")
    run.write_config(tool.expected_config([*arguments, "--embedding_dim=16"]))
    with pytest.raises(ConfigError, match="--embedding_dim: 64 -> 16"):
        tool.check_settings(run, arguments, "RL w/ pre")


def test_a_grid_moved_as_a_whole_keeps_its_w_pre_runs(tmp_path):
    """A w/ pre run whose grid was moved (its committed run files copied elsewhere) still starts
    from the backbone beside it; from another run it is refused."""
    tool = _tool()
    grid = tool.Grid("synthetic", "cpu", ["NextItNet+", "RL w/ pre"], ["0"], str(tmp_path), [], [])
    run, arguments = RunDir(grid.path("RL w/ pre", "0")), grid.arguments("RL w/ pre", "0")
    trained = tool.expected_config(
        [a for a in arguments if not a.startswith("--init_from")]
        + ["--init_from=/elsewhere/grid/nextitnet_plus_seed0"]
    )
    run.write_config(dataclasses.replace(trained, run_dir="/elsewhere/grid/rl_w_pre_seed0"))
    tool.check_settings(run, arguments, "RL w/ pre")
    run.write_config(dataclasses.replace(trained, run_dir="/elsewhere/other/rl_w_pre_seed0"))
    with pytest.raises(ConfigError, match="--init_from"):
        tool.check_settings(run, arguments, "RL w/ pre")


def test_a_kept_speedup_is_read_only_while_both_runs_are_unchanged(tmp_path):
    tool = _tool()
    grid = tool.Grid("synthetic", "cpu", ["NextItNet+", "RL w/ pre"], ["0"], str(tmp_path), [], [])
    run, backbone = RunDir(grid.path("RL w/ pre", "0")), RunDir(grid.path("NextItNet+", "0"))
    assert tool.timed_rows(grid) == ["RL w/ pre"]
    for each, score in ((run, 0.1), (backbone, 0.2)):
        each.write_metrics({"test": {"mrr_at_5": score}})
    assert tool.saved_speedup(grid, "RL w/ pre", "0") is None  # not measured
    run.write_served_speedup({
        "speedup": 2.5,
        "metrics": tool._digest(run.metrics_file),
        "backbone_metrics": tool._digest(backbone.metrics_file),
    })  # fmt: skip
    assert tool.saved_speedup(grid, "RL w/ pre", "0") == 2.5
    backbone.write_metrics({"test": {"mrr_at_5": 0.3}})  # the backbone trained again
    assert tool.saved_speedup(grid, "RL w/ pre", "0") is None


def test_a_w_pre_row_whose_backbone_has_no_checkpoint_is_named(tmp_path):
    """A grid restored from its small files: the backbone has finished but cannot start a w/ pre
    run; the tool says which and what to do, before training anything."""
    tool = _tool()
    grid = tool.Grid("synthetic", "cpu", ["NextItNet+", "RL w/ pre"], ["0"], str(tmp_path), [], [])
    backbone = RunDir(grid.path("NextItNet+", "0"))
    backbone.write_config(tool.expected_config(grid.arguments("NextItNet+", "0")))
    backbone.write_metrics({"test": {"mrr_at_5": 0.1}})
    with pytest.raises(ConfigError, match="nextitnet_plus_seed0, which has no checkpoint"):
        tool.train_grid(grid, rounds=1, inter_op_threads=1)
    assert not (tmp_path / "rl_w_pre_seed0").exists()


def test_the_grid_trains_seed_by_seed_the_backbone_then_its_skiprec_runs():
    """What needs a backbone's checkpoint trains right after it; GRU4Rec, which needs none, last."""
    tool = _tool()
    rows = ["GRU4Rec", "RL w/ pre", "NextItNet+"]
    grid = tool.Grid("synthetic", "cpu", rows, ["0", "1"], "/tmp/unused", [], [])
    assert grid.ordered() == [
        ("NextItNet+", "0"), ("RL w/ pre", "0"), ("GRU4Rec", "0"),
        ("NextItNet+", "1"), ("RL w/ pre", "1"), ("GRU4Rec", "1"),
    ]  # fmt: skip


def test_a_data_set_without_a_rows_flagfile_is_named():
    tool = _tool()
    with pytest.raises(ConfigError, match="synthetic_caser.cfg"):
        tool.Grid("synthetic", "cpu", ["Caser"], ["0"], "/tmp/unused", [], [])


def test_a_table_always_has_its_backbone_row(tmp_path):
    """--rows without the backbone still trains it: the paired CIs and speedups need it."""
    result = run_tool(
        "reproduce_tables.py", "--preset=tiny", "--rows=GRU4Rec", f"--out_dir={tmp_path}",
        "--data=no_such_data",
    )  # fmt: skip
    assert result.returncode != 0  # stops at the flagfiles, after choosing the rows
    assert "no_such_data_plus.cfg" in result.stderr and "no_such_data_gru4rec.cfg" in result.stderr


def test_every_row_has_a_run_directory_of_its_own():
    """NextItNet and NextItNet+ (and every other pair) never share a run directory."""
    tool = _tool()
    slugs = [tool.slug(row) for row in tool.SPECS]
    assert len(set(slugs)) == len(slugs), slugs
    assert tool.slug("NextItNet+") == "nextitnet_plus" and tool.slug("NextItNet") == "nextitnet"
    assert tool.slug("RL w/ pre") == "rl_w_pre"  # the names of earlier runs stay
