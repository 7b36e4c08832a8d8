"""tools/training_curves.py on hand-made histories: a PNG per call, clear errors for bad input."""

import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

_REPO = pathlib.Path(__file__).resolve().parents[2]


def _history(tmp_path, name, entropy):
    path = tmp_path / name
    path.mkdir()
    lines = ["epoch,loss,policy_entropy,blocks_std"]
    lines += [f"{epoch},{4 - epoch},{value},{2 * value}" for epoch, value in enumerate(entropy)]
    (path / "history.csv").write_text("\n".join(lines) + "\n")
    return path


def _curves(tmp_path, *args):
    return subprocess.run(
        [sys.executable, str(_REPO / "tools" / "training_curves.py"), *args],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": str(_REPO), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip


@pytest.mark.slow
def test_draws_the_chosen_columns_of_every_run(tmp_path):
    a = _history(tmp_path, "a", [0.6, 0.1, 0.01])
    b = _history(tmp_path, "b", [0.6, 0.5])
    out = tmp_path / "curves.png"
    result = _curves(
        tmp_path, f"--runs=fast={a},slow={b}", "--metrics=policy_entropy,blocks_std",
        f"--out_png={out}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.stat().st_size > 0 and f"Wrote {out}" in result.stdout


@pytest.mark.slow
def test_a_missing_column_or_a_spec_without_a_name_is_a_clear_error(tmp_path):
    a = _history(tmp_path, "a", [0.6])
    result = _curves(tmp_path, f"--runs=a={a}", "--metrics=val_mrr_at_5", "--out_png=x.png")
    assert result.returncode != 0 and "a: history.csv has no val_mrr_at_5" in result.stderr
    result = _curves(tmp_path, f"--runs={a}", "--out_png=x.png")
    assert result.returncode != 0 and "is not NAME=RUN_DIR" in result.stderr


def test_epochs_count_from_1_in_old_and_new_histories(tmp_path):
    old = _history(tmp_path, "old", [0.6, 0.1])  # epochs 0, 1: written before they counted from 1
    new = tmp_path / "new"
    new.mkdir()
    (new / "history.csv").write_text("epoch,loss,policy_entropy,blocks_std\n1,4,0.6,1\n2,3,0.1,1\n")
    spec = importlib.util.spec_from_file_location(
        "training_curves", _REPO / "tools" / "training_curves.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    histories = module.read_histories([f"old={old}", f"new={new}"])
    assert list(histories["old"]["epoch"]) == list(histories["new"]["epoch"]) == [1, 2]
