"""tools/benchmark_data.py on 200,000 rows: it prints its figures, and the preprocessing it times
gives what `load_sequence_data` gives on the same file."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

from skiprec_tf.data.loading import load_sequence_data

# The second tier: each test runs the tool in a fresh process (TensorFlow's import).
pytestmark = pytest.mark.slow

_REPO = pathlib.Path(__file__).resolve().parents[2]


def test_benchmark_data_prints_times_memory_and_consistent_counts(tmp_path):
    result = subprocess.run(
        [sys.executable, str(_REPO / "tools" / "benchmark_data.py"), "--rows=200000",
         "--users=1400", "--items=2700", f"--keep_dir={tmp_path}"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": str(_REPO), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert re.search(r"generation: [\d.]+ s .* of 200000 rows, 1400 users, 2700 items", out), out
    assert re.search(r"peak memory: \d+ MiB resident", out), out
    counts = re.search(
        r"preprocessing: [\d.]+ s wall: (\d+) interactions kept, (\d+) items, (\d+) sequences "
        r"\((\d+) train, (\d+) valid, (\d+) test\)",
        out,
    )
    assert counts, out
    kept, items, total, train, valid, test = map(int, counts.groups())
    assert 0 < kept <= 200_000 and items <= 2700 and total == train + valid + test
    passed = re.search(r"tf.data training pass: (\d+) sequences in [\d.]+ s: \d+ sequences/s", out)
    assert passed and int(passed.group(1)) == train, out

    data = load_sequence_data(
        tmp_path / "ratings.csv", "movielens_csv", min_user_items=10, min_item_users=5,
        seq_len=20, cut="subsequences", fractions=(0.8, 0.05, 0.15), seed=0,
    )  # fmt: skip
    assert (data.num_interactions, data.num_items) == (kept, items)
    assert (len(data.train), len(data.valid), len(data.test)) == (train, valid, test)
