"""The paper's tables from hand-made finished runs: means and spreads over seeds, the speedup
cell, the paired comparison with the backbone, Figure 4's utilisation."""

import numpy as np
import pytest

from skiprec_tf.evaluation.baselines import mean_metrics
from skiprec_tf.evaluation.tables import TableRow, format_table, mean_and_spread, mean_utilisation
from skiprec_tf.training.run_dir import RunDir

TEST = np.arange(40).reshape(20, 2)  # the test split both runs share (its fingerprint)


def _run(path, ranks, utilisation=None):
    run = RunDir(str(path))
    ranks = np.asarray(ranks, np.int32)
    run.write_metrics({"test": mean_metrics(ranks), "most_popular": mean_metrics(ranks + 10)})
    run.write_test_ranks({"model": ranks, "most_popular": ranks + 10}, TEST)
    if utilisation is not None:
        lines = ["block,dilations,utilisation"]
        lines += [f"{i + 1},1-2,{rate}" for i, rate in enumerate(utilisation)]
        (path / "block_usage.csv").write_text("\n".join(lines) + "\n")
    return str(path)


def test_mean_and_spread_over_seeds():
    assert mean_and_spread([0.5]) == "0.5000"
    assert mean_and_spread([0.1, 0.3]) == f"0.2000 ± {np.std([0.1, 0.3], ddof=1):.4f}"


def test_a_table_holds_the_runs_figures_and_the_paired_comparison(tmp_path):
    rng = np.random.default_rng(0)
    backbone = [_run(tmp_path / f"b{s}", rng.integers(1, 30, 20)) for s in range(2)]
    better = [_run(tmp_path / f"s{s}", np.ones(20)) for s in range(2)]  # every target first
    rows = [
        TableRow("MostPop", tuple(backbone), "most_popular"),
        TableRow("NextItNet+", tuple(backbone)),
        TableRow("RL w/ pre", tuple(better), speedups=(2.0, 2.2)),
    ]
    lines = format_table("Table 2", rows, "NextItNet+", samples=200).splitlines()
    assert lines[0] == "**Table 2**"
    by_model = {line.split(" | ")[0].strip("| "): line.split(" | ") for line in lines[4:]}
    assert set(by_model) == {"MostPop", "NextItNet+", "RL w/ pre"}
    mrr = [RunDir(run).read_metrics()["test"]["mrr_at_5"] for run in backbone]
    assert by_model["NextItNet+"][2] == mean_and_spread(mrr)
    assert by_model["NextItNet+"][7] == "1.00×"
    assert by_model["RL w/ pre"][2] == "1.0000 ± 0.0000"
    assert by_model["RL w/ pre"][7] == f"2.10× ± {np.std([2.0, 2.2], ddof=1):.2f}"
    # Every target ranked first beats the backbone with an interval above 0; MostPop is below.
    gain = float(by_model["RL w/ pre"][8].split("%")[0])
    assert gain == pytest.approx(100 * (1 / np.mean(mrr) - 1), abs=0.1)
    assert by_model["RL w/ pre"][8].split("[")[1].startswith("+")
    assert by_model["MostPop"][7] == "–" and by_model["MostPop"][8].startswith("-")


def test_figure_4_averages_the_utilisation_of_the_seeds(tmp_path):
    runs = [
        _run(tmp_path / "a", [1, 2], utilisation=[1.0, 0.2]),
        _run(tmp_path / "b", [1, 2], utilisation=[0.6, 0.4]),
    ]
    np.testing.assert_allclose(mean_utilisation(runs), [0.8, 0.3])
