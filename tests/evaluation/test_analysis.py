"""The block-usage summary on a hand-computed case, and the files it writes."""

import csv
import os

import numpy as np
import pytest

from skiprec_tf.evaluation.analysis import block_usage, write_block_usage
from skiprec_tf.training.run_dir import RunDir


def test_block_usage_summary():
    actions = np.array([[1, 0, 1, 0], [1, 1, 1, 1], [1, 0, 1, 0]])
    usage = block_usage(actions)
    assert usage["utilisation"] == [1.0, pytest.approx(1 / 3), 1.0, pytest.approx(1 / 3)]
    assert usage["blocks_mean"] == pytest.approx(8 / 3) and usage[
        "usage_fraction"
    ] == pytest.approx(2 / 3)
    assert (usage["blocks_min"], usage["blocks_max"], usage["distinct_policies"]) == (2, 4, 2)
    assert usage["blocks_std"] == pytest.approx(np.std([2, 4, 2]))


@pytest.mark.parametrize(
    "dilations, column", [((1, 4, 1, 4), ["1-2", "4-8", "1-2", "4-8"]), (None, [""] * 4)]
)
def test_block_usage_files_name_nextitnet_dilations_only(tmp_path, dilations, column):
    run = RunDir(tmp_path / "run")
    os.makedirs(run.path)
    usage = block_usage(np.array([[1, 0, 1, 0], [1, 1, 1, 1]]))
    write_block_usage(run, usage, dilations, step=1)
    with open(run.block_usage_csv) as f:
        rows = list(csv.DictReader(f))
    assert [row["dilations"] for row in rows] == column
    assert [float(row["utilisation"]) for row in rows] == [1.0, 0.5, 1.0, 0.5]
    assert os.path.getsize(run.block_usage_png) > 0
