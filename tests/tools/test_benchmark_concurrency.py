"""tools/benchmark_concurrency.py on a tiny export: a row of latencies and throughputs per number
of concurrent clients and batch size, all of them positive."""

import re

import pytest
from tools_testing import run_tool

from skiprec_tf.serving.export import RecommenderServing, export_saved_model
from skiprec_tf.training.run_dir import RunDir

pytestmark = pytest.mark.slow  # the second tier (conftest.py)

_ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")


@pytest.fixture(scope="module")
def saved_model(tiny_skiprec_run, tmp_path_factory):
    config, model, item_ids = RunDir(tiny_skiprec_run).load_model()
    serving = RecommenderServing(model, item_ids, config.data.input_length)
    return export_saved_model(serving, str(tmp_path_factory.mktemp("export")), "m")


def _run(*flags):
    return run_tool("benchmark_concurrency.py", *flags)


@pytest.mark.parametrize("loader", ["session", "eager"])
def test_benchmark_concurrency_prints_a_row_per_clients_and_batch_size(saved_model, loader):
    result = _run(
        f"--saved_model={saved_model}", f"--loader={loader}", "--batch_sizes=1,256",
        "--requests=10", "--warmup_requests=2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"Loader {loader}, serving_default" in result.stdout
    assert "10 timed requests per client after 2 warm-up ones" in result.stdout
    header = "clients  batch    p50 ms    p99 ms  requests/s  sequences/s"
    assert header in result.stdout, result.stdout
    rows = [match.groups() for match in map(_ROW.match, result.stdout.splitlines()) if match]
    assert [(int(c), int(b)) for c, b, *_ in rows] == [
        (1, 1), (4, 1), (8, 1), (1, 256), (4, 256), (8, 256)
    ], result.stdout  # fmt: skip
    for clients, batch, p50, p99, requests, sequences in rows:
        assert 0 < float(p50) <= float(p99), result.stdout
        assert float(requests) > 0 and float(sequences) > 0, result.stdout
        assert float(sequences) == pytest.approx(float(requests) * int(batch), rel=1e-3, abs=0.1)
