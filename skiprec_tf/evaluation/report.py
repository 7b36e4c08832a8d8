"""Plain-text tables of results."""

from skiprec_tf.evaluation.metrics import METRIC_NAMES


def format_metrics_table(rows: dict[str, dict[str, float]]) -> str:
    """One line per model, one column per ranking metric (MRR@5 ... NDCG@20)."""
    headers = [name.upper().replace("_AT_", "@") for name in METRIC_NAMES]
    width = max(len("model"), *(len(name) for name in rows))
    lines = ["  ".join([f"{'model':<{width}}", *(f"{h:>8}" for h in headers)])]
    for model, metrics in rows.items():
        values = (f"{metrics[name]:>8.4f}" for name in METRIC_NAMES)
        lines.append("  ".join([f"{model:<{width}}", *values]))
    return "\n".join(lines)


def format_block_usage(usage: dict) -> str:
    """Block usage of the test users: blocks per user, distinct policies, FLOPs, per group."""
    blocks = len(usage["utilisation"])
    spread = f"std {usage['blocks_std']:.2f}, min {usage['blocks_min']}, max {usage['blocks_max']}"
    fraction = usage["flop_fraction"]
    lines = [
        (
            f"Blocks used per test user: mean {usage['blocks_mean']:.2f} of {blocks} ({spread}), "
            f"{usage['distinct_policies']} distinct policies"
        ),
        (
            f"FLOPs of one inference, policy included: {fraction:.3f} of the full backbone's "
            f"(ideal speedup {1 / fraction:.2f}x)"
        ),
    ]
    for group, mean in usage.get("blocks_mean_by_group", {}).items():
        lines.append(f"  {group} users: {mean:.2f} blocks on average")
    return "\n".join(lines)


def format_run_report(results: dict, run_dir: str) -> str:
    """What a run prints at its end (its start printed the data set): the test metrics next to
    MostPop's and the first-order Markov chain's, SkipRec's block usage, and where the run
    directory is."""
    lines = [
        (
            f"Test metrics (last item of {results['data']['test']:,} test sequences, ranked "
            "against all items):"
        ),
        format_metrics_table(
            {
                results["model"]: results["test"],
                "MostPop": results["most_popular"],
                "Markov chain": results["markov_chain"],
            }
        ),
    ]
    if "block_usage" in results:
        lines.append(format_block_usage(results["block_usage"]))
    lines.append(f"\nRun directory: {run_dir}")
    return "\n".join(lines)
