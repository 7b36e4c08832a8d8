"""The plain-text tables a run prints."""

from skiprec_tf.evaluation.metrics import METRIC_NAMES
from skiprec_tf.evaluation.report import format_block_usage, format_metrics_table, format_run_report

USAGE = {
    "utilisation": [1.0, 0.5, 0.0, 0.5],
    "blocks_mean": 2.0,
    "blocks_std": 0.5,
    "blocks_min": 1,
    "blocks_max": 3,
    "distinct_policies": 3,
    "flop_fraction": 0.5,
    "blocks_mean_by_group": {"easy": 1.5},
}


def test_metrics_table_has_a_row_per_model_and_a_column_per_metric():
    table = format_metrics_table(
        {
            "NextItNet+": dict.fromkeys(METRIC_NAMES, 0.125),
            "MostPop": dict.fromkeys(METRIC_NAMES, 0.0),
        }
    )
    header, first, second = table.splitlines()
    assert header.split() == ["model", "MRR@5", "MRR@20", "HR@5", "HR@20", "NDCG@5", "NDCG@20"]
    assert first.split() == ["NextItNet+", *["0.1250"] * 6]
    assert second.split()[0] == "MostPop"


def test_block_usage_lines():
    text = format_block_usage(USAGE)
    assert "mean 2.00 of 4 (std 0.50, min 1, max 3), 3 distinct policies" in text
    assert "0.500 of the full backbone's (ideal speedup 2.00x)" in text
    assert "easy users: 1.50 blocks on average" in text


def test_run_report_puts_the_parts_in_order():
    results = {
        "model": "skiprec_rl",
        "test": dict.fromkeys(METRIC_NAMES, 0.1),
        "most_popular": dict.fromkeys(METRIC_NAMES, 0.0),
        "markov_chain": dict.fromkeys(METRIC_NAMES, 0.05),
        "data": {"test": 1234},
        "block_usage": USAGE,
    }
    text = format_run_report(results, "runs/x")
    parts = [
        "1,234 test sequences",
        "skiprec_rl",
        "MostPop",
        "Markov chain",
        "Blocks used",
    ]
    parts.append("runs/x")
    positions = [text.index(part) for part in parts]
    assert positions == sorted(positions)
    del results["block_usage"]  # NextItNet+
    assert "Blocks used" not in format_run_report(results, "runs/x")
