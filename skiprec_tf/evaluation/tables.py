"""The paper's result tables (Tables 2-5) from finished runs: every cell the mean over seeds with
its spread, a measured speedup, and a paired comparison with the table's backbone."""

import dataclasses
import statistics

import numpy as np
import pandas as pd

from skiprec_tf.evaluation.compare import compare_ranks, load_ranks
from skiprec_tf.training.run_dir import RunDir

# The paper's columns, and NDCG@20.
TABLE_METRICS = ("mrr_at_5", "mrr_at_20", "hr_at_5", "hr_at_20", "ndcg_at_20")


def metric_label(name: str) -> str:
    return name.upper().replace("_AT_", "@")


@dataclasses.dataclass(frozen=True)
class TableRow:
    """One model of a table: its runs (one per seed) and where its ranks are (`model`, or a
    baseline those runs saved: `most_popular`, `markov_chain`); `speedups` the served speedup of
    each seed against the table's backbone (empty when not measured)."""

    name: str
    runs: tuple[str, ...]
    ranks: str = "model"
    speedups: tuple[float, ...] = ()


def mean_and_spread(values) -> str:
    """`mean ± sample standard deviation` (the mean alone for one value)."""
    values = list(values)
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def speedup_cell(speedups) -> str:
    if not speedups:
        return "–"
    if len(speedups) == 1:
        return f"{speedups[0]:.2f}×"
    return f"{statistics.mean(speedups):.2f}× ± {statistics.stdev(speedups):.2f}"


def seed_metrics(row: TableRow) -> list[dict]:
    """The test metrics of every seed of `row`, from its runs' metrics.json."""
    key = "test" if row.ranks == "model" else row.ranks
    return [RunDir(run).read_metrics()[key] for run in row.runs]


def paired_cell(row: TableRow, reference: TableRow, samples: int) -> str:
    """MRR@5 and HR@20 of `row` against `reference`, relative, with paired bootstrap 95% CIs
    over the test sequences (each sequence's metric averaged over the seeds first)."""
    ranks, split = load_ranks(f"{','.join(row.runs)}:{row.ranks}")
    reference_ranks, _ = load_ranks(f"{','.join(reference.runs)}:{reference.ranks}", split)
    differences = {d.metric: d for d in compare_ranks(reference_ranks, ranks, samples)}
    return "; ".join(
        f"{differences[m].relative:+.1%} [{differences[m].relative_low:+.1%}, "
        f"{differences[m].relative_high:+.1%}]"
        for m in ("mrr_at_5", "hr_at_20")
    )


def format_table(title: str, rows: list[TableRow], reference: str, samples: int = 2000) -> str:
    """A markdown table in the layout of the paper's Tables 2-5: one line per row, the mean ±
    spread over seeds of each metric, the speedup, and the paired comparison with the row named
    `reference` (MRR@5; HR@20)."""
    by_name = {row.name: row for row in rows}
    headers = ["model", "seeds", *map(metric_label, TABLE_METRICS), "Speedup"]
    headers.append(f"against {reference}: MRR@5; HR@20 (95% CI)")
    lines = [f"**{title}**", "", "| " + " | ".join(headers) + " |", "|---" * len(headers) + "|"]
    for row in rows:
        metrics = seed_metrics(row)
        cells = [mean_and_spread(m[name] for m in metrics) for name in TABLE_METRICS]
        paired = "" if row.name == reference else paired_cell(row, by_name[reference], samples)
        speedup = "1.00×" if row.name == reference else speedup_cell(row.speedups)
        lines.append(
            "| " + " | ".join([row.name, str(len(metrics)), *cells, speedup, paired]) + " |"
        )
    return "\n".join(lines)


def mean_utilisation(runs) -> np.ndarray:
    """The utilisation rate of every block (the paper's Figure 4), averaged over the runs' test
    users' block_usage.csv."""
    rates = [pd.read_csv(RunDir(run).block_usage_csv)["utilisation"] for run in runs]
    return np.mean(rates, axis=0)
