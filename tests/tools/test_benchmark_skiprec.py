"""tools/benchmark_skiprec.py with the ml-latest-small flagfiles shrunk to a tiny synthetic case
(one seed, one epoch): it trains the six models, and its table shows their metrics.json."""

import re

import pytest
from tools_testing import run_tool

from skiprec_tf.training.run_dir import RunDir

_TINY = ("--data_name=synthetic,--data_format=synthetic,--synthetic_users=200,"
         "--synthetic_items=30,--seq_len=10,--embedding_dim=8,--num_blocks=2,--batch_size=64,"
         "--epochs=1,--warmup_epochs=0,--jit_compile=false,--cache_dir=")  # fmt: skip
_MODELS = {"NextItNet+": "plus", "SkipRec-Gumbel": "gumbel", "SkipRec-Gumbel w/ pre": "gumbel_pre",
           "SkipRec-RL": "rl", "SkipRec-RL w/ pre": "rl_pre", "random policy": "random"}  # fmt: skip
_CELL = r"(-?[\d.]+) ± ([\d.]+)"


@pytest.mark.slow
def test_benchmark_skiprec_table_of_one_tiny_seed(tmp_path):
    result = run_tool(
        "benchmark_skiprec.py",
        "--seeds=0",
        f"--out_dir={tmp_path}",
        f"--extra={_TINY}",
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "1 seeds (0), mean ± std, test split:" in out
    assert f"--init_from={tmp_path / 'plus_seed0'}" in out  # the w/ pre runs start from NextItNet+
    for name, run in _MODELS.items():
        line = re.search(rf"^{re.escape(name)} +{' +'.join([_CELL] * 5)}$", out, re.MULTILINE)
        assert line, (name, out)
        means = [float(line.group(i)) for i in (1, 3, 5, 7, 9)]
        assert [float(line.group(i)) for i in (2, 4, 6, 8, 10)] == [0.0] * 5  # one seed
        metrics = RunDir(str(tmp_path / f"{run}_seed0")).read_metrics()
        test = metrics["test"]
        expected = [test["mrr_at_5"], test["hr_at_5"], test["hr_at_20"]]
        assert means[:3] == pytest.approx(expected, abs=5e-5)
        assert 0 < means[0] <= means[1] <= means[2] <= 1
        assert 0 <= means[3] <= 1 and means[4] > 0  # blocks used, FLOP fraction
    assert re.search(r"^  NextItNet\+ +\+0\.0%$", out, re.MULTILINE)
    for name in _MODELS:
        assert re.search(rf"^  {re.escape(name)} +[+-]\d+\.\d%$", out, re.MULTILINE), name
