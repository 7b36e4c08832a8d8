"""Plain-text tables of results."""

from typing import Dict

from skiprec_tf.metrics import METRIC_NAMES


def format_metrics_table(rows: Dict[str, Dict[str, float]]) -> str:
    """One line per model, one column per ranking metric (MRR@5 ... NDCG@20)."""
    headers = [name.upper().replace("_AT_", "@") for name in METRIC_NAMES]
    width = max(len("model"), *(len(name) for name in rows))
    lines = ["  ".join([f"{'model':<{width}}", *(f"{h:>8}" for h in headers)])]
    for model, metrics in rows.items():
        values = (f"{metrics[name]:>8.4f}" for name in METRIC_NAMES)
        lines.append("  ".join([f"{model:<{width}}", *values]))
    return "\n".join(lines)
