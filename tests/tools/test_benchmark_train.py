"""tools/benchmark_train.py on a tiny synthetic configuration, on one thread: it trains the
warm-up and timed epochs and prints positive throughput, time per step and peak memory."""

import re

import pytest
from tools_testing import run_tool

_TINY = ["--data_format=synthetic", "--synthetic_users=300", "--synthetic_items=30", "--seq_len=10",
         "--embedding_dim=8", "--num_blocks=2", "--batch_size=64", "--cache_dir="]  # fmt: skip


@pytest.mark.slow
def test_benchmark_train_prints_throughput_step_time_and_memory():
    result = run_tool("benchmark_train.py", *_TINY, "--timed_epochs=2", "--threads=1")
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "config: data=synthetic d=8 blocks=2 t=10 batch=64" in out
    assert "threads=1" in out
    # 300 users: 240 training sequences, 4 steps of 64.
    timed = re.search(r"timed epochs: (.+) s \((\d+) steps, (\d+) sequences each\)", out)
    assert timed, out
    epochs = [float(s) for s in timed.group(1).split(", ")]
    assert len(epochs) == 2 and all(s >= 0 for s in epochs)  # 4 steps: may print 0.00
    assert (int(timed.group(2)), int(timed.group(3))) == (4, 240)
    throughput = re.search(r"throughput: ([\d.]+) sequences/s \(median\), ([\d.]+) ms/step", out)
    assert throughput, out
    assert float(throughput.group(1)) > 0 and float(throughput.group(2)) > 0
    memory = re.search(r"peak memory: (\d+) MiB resident \(after loading data: (\d+) MiB\)", out)
    assert memory, out
    assert int(memory.group(1)) >= int(memory.group(2)) > 0
    assert float(re.search(r"warm-up epoch \(tracing\): ([\d.]+) s", out).group(1)) > 0
