"""Accuracy against measured cost under a compute budget (`max_blocks`), in one run.

Exports the SkipRec run `--run` once and, for each cap (fractions of its N blocks), measures on the
run's test split: MRR@5 and HR@20 (full ranking, the served model's scores in process, which the
export's equal), the blocks each user runs, and, through the export loaded as TF Serving loads it
(a session, one run of `recommend_budget` per request), batch-1 p50 latency and batch-256
throughput; with `--ranks_dir`, every point's per-sequence test ranks for `tools/compare_runs.py`.
`--static` adds other models (e.g. a backbone truncated by a cap, or a small backbone trained from
scratch, or the SkipRec model's most common policy applied to every user) as points measured the
same way, each static point served at its fastest (its blocks in a plain loop). All points are timed
alternately in one process, so that machine noise hits them alike. Prints a table; draws accuracy
against latency.

Example:
  python tools/budget_curve.py --run=runs/mlsmall_sasrec_rl_pre \
      --static="most common policy=runs/mlsmall_sasrec_rl_pre@most_common,SASRec+ first 16=runs/mlsmall_sasrec@first=16,SASRec+ 16 blocks=runs/mlsmall_sasrec_16" \
      --out_png=docs/budget_mlsmall.png
"""

import json
import os
import re
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from absl import app, flags

from skiprec_tf.data.pipeline import evaluation_batches
from skiprec_tf.data.sources import load_data
from skiprec_tf.evaluation.analysis import collect_actions
from skiprec_tf.evaluation.metrics import ranking_metrics, target_ranks
from skiprec_tf.serving.export import RecommenderServing, export_saved_model
from skiprec_tf.serving.session import SessionServable, serving_threads
from skiprec_tf.serving.timing import time_alternating
from skiprec_tf.training.run_dir import RunDir

flags.DEFINE_string("run", None, "The SkipRec run whose caps are measured.")
flags.DEFINE_string("name", "SkipRec", "The run's name in the figure.")
flags.DEFINE_list(
    "fractions", ["1", "0.75", "0.5", "0.25", "0.125", "0"], "Caps as fractions of N."
)
flags.DEFINE_list(
    "static",
    [],
    "Other points: name=RUN (as trained), name=RUN@first=K (its first K blocks for every user) or "
    "name=RUN@most_common (the blocks of the SkipRec RUN's most common policy, for every user).",
)
flags.DEFINE_integer("rounds", 3, "Timed passes over the test split at batch 256, per point.")
flags.DEFINE_integer("batch_size", 256, "Batch of the throughput measurement.")
flags.DEFINE_integer("single_requests", 200, "Batch-1 requests timed per point.")
flags.DEFINE_integer("inter_op_threads", 1, "TF Serving's --tensorflow_inter_op_parallelism.")
flags.DEFINE_string("out_png", "", "Where to draw MRR@5 and HR@20 against batch-1 p50 latency.")
flags.DEFINE_string("out_json", "", "Where to write the table's figures.")
flags.DEFINE_string(
    "ranks_dir",
    "",
    "Where to save each point's per-sequence test ranks, as DIR/<point>/test_ranks.npz (the file a"
    " run saves), for paired comparisons: tools/compare_runs.py takes DIR/<point> as it takes a run.",
)
flags.mark_flag_as_required("run")
FLAGS = flags.FLAGS


class Point:
    """One model under a cap, or a static sub-network of it: its in-process accuracy, and its
    export (`recommend_budget` under a cap, else `recommend_k`) loaded in a session."""

    def __init__(self, name, kind, run_dir, export_dir, session_config, max_blocks=None, fixed=""):
        config, model, item_ids = RunDir(run_dir).load_model()
        data = load_data(config.data)
        fixed_blocks = static_blocks(fixed, model, data.train, FLAGS.batch_size)
        serving = RecommenderServing(
            model, item_ids, config.data.input_length, fixed_blocks=fixed_blocks
        )
        self.name, self.kind, self.run_dir = name, kind, run_dir
        self.num_blocks = len(serving.residual_blocks)
        self.max_blocks = max_blocks
        self.ranks, self.blocks = rank_targets(serving, data.test, max_blocks, FLAGS.batch_size)
        self.metrics = {k: float(np.mean(v)) for k, v in ranking_metrics(self.ranks).items()}
        self.test = data.test
        self.requests = item_ids[data.test[:, :-1]]  # raw ids, as a client sends them
        path = export_saved_model(serving, export_dir, f"point{id(self)}")
        servable = SessionServable(path, session_config)
        self.serve = servable.top_k(10, max_blocks)


def static_blocks(fixed: str, model, train, batch_size: int):
    """The blocks of a static point: `first=K` (the first K), `most_common` (those of the SkipRec
    model's most common greedy policy on the training sequences), or "" (None: the model as
    trained)."""
    if not fixed:
        return None
    if fixed.startswith("first="):
        return list(range(int(fixed.removeprefix("first="))))
    if fixed == "most_common":
        actions = collect_actions(model, train, batch_size)
        policies, counts = np.unique(actions, axis=0, return_counts=True)
        most_common = policies[np.argmax(counts)]
        print(f"Most common policy of {len(train)} training sequences ({counts.max()} of them):"
              f" blocks {np.flatnonzero(most_common).tolist()}")  # fmt: skip
        return np.flatnonzero(most_common).tolist()
    raise app.UsageError(f"--static: {fixed!r} is not first=K or most_common")


def rank_targets(serving, test, max_blocks, batch_size):
    """The rank of every test target under `serving` with `max_blocks`, and the mean blocks per
    user."""
    scores_of = tf.function(serving.scores)
    cap = None if max_blocks is None else tf.constant(max_blocks)
    ranks, blocks = [], []
    for inputs, targets in evaluation_batches(test, batch_size):
        scores, actions = scores_of(inputs, cap)
        ranks.append(target_ranks(scores, targets[:, -1] - 1).numpy())
        blocks.append(tf.reduce_sum(actions, axis=1).numpy())
    return np.concatenate(ranks), float(np.mean(np.concatenate(blocks)))


def ranks_paths(points, ranks_dir: str):
    """`ranks_dir/<point>` of every point, its name with runs of other characters made `_`."""
    paths = [
        os.path.join(ranks_dir, re.sub(r"[^A-Za-z0-9+.=-]+", "_", point.name).strip("_"))
        for point in points
    ]
    if len(set(paths)) < len(paths):
        raise app.UsageError(f"--ranks_dir: two points' names give one directory: {paths}")
    return paths


def save_ranks(points, paths):
    """Each point's test ranks in `<path>/test_ranks.npz`, as a run saves its own."""
    for point, path in zip(points, paths):
        os.makedirs(path, exist_ok=True)
        RunDir(path).write_test_ranks({"model": point.ranks}, point.test)
        print(f"Ranks of {point.name!r}: {path}")


def draw(rows, path):
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.4), dpi=100)
    for axis, (key, label) in zip(axes, (("mrr_at_5", "MRR@5"), ("hr_at_20", "HR@20"))):
        capped = [r for r in rows if r["kind"] == "cap"]
        axis.plot([r["p50_ms"] for r in capped], [r[key] for r in capped], marker="o",
                  label=f"{FLAGS.name} under a cap (max_blocks)")  # fmt: skip
        for r in capped:
            axis.annotate(str(r["max_blocks"]), (r["p50_ms"], r[key]), fontsize=7)
        for r in (r for r in rows if r["kind"] == "static"):
            axis.plot(r["p50_ms"], r[key], marker="s", linestyle="", label=r["name"])
        axis.set_xlabel("batch-1 p50 latency (ms), export in a session")
        axis.set_ylabel(f"test {label}")
        axis.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=4, fontsize=7)
    figure.suptitle("Accuracy against measured latency under a compute budget (max_blocks)")
    figure.tight_layout(rect=(0, 0.1, 1, 1))
    figure.savefig(path)


def main(argv):
    del argv
    session_config = serving_threads(FLAGS.inter_op_threads)
    num_blocks = RunDir(FLAGS.run).read_config().model.num_blocks
    caps = sorted({round(float(f) * num_blocks) for f in FLAGS.fractions}, reverse=True)
    with tempfile.TemporaryDirectory() as export_dir:
        points = [
            Point(f"cap {cap}", "cap", FLAGS.run, export_dir, session_config, max_blocks=cap)
            for cap in caps
        ]
        for spec in FLAGS.static:
            name, _, target = spec.partition("=")
            run_dir, _, fixed = target.partition("@")
            points.append(Point(name, "static", run_dir, export_dir, session_config, fixed=fixed))
        if FLAGS.ranks_dir:
            paths = ranks_paths(points, FLAGS.ranks_dir)  # before the timing: fail early
        # Every point is timed on the same requests: the first point's test split, in raw ids.
        requests = points[0].requests
        batches = [
            requests[i : i + FLAGS.batch_size] for i in range(0, len(requests), FLAGS.batch_size)
        ]
        singles = [requests[i : i + 1] for i in range(min(FLAGS.single_requests, len(requests)))]
        for point in points:  # warm-up: the first calls of both plans
            point.serve(batches[0][:2])
            point.serve(singles[0])
        serves = {point.name: point.serve for point in points}
        pass_time, latencies = time_alternating(serves, batches, singles, FLAGS.rounds)
    rows = []
    for point in points:
        rows.append({
            "name": point.name, "kind": point.kind, "run_dir": point.run_dir, "max_blocks": point.max_blocks, "num_blocks": point.num_blocks,
            "blocks_per_user": point.blocks, **point.metrics,
            "p50_ms": float(np.percentile(latencies[point.name], 50)),
            "throughput": len(point.requests) / pass_time[point.name],
        })  # fmt: skip
    print(
        f"{len(points[0].requests)} test users; {FLAGS.rounds} rounds at batch {FLAGS.batch_size},"
        f" {FLAGS.single_requests} single requests per point, inter-op threads"
        f" {FLAGS.inter_op_threads}"
    )
    print("| point | max_blocks | blocks per user | MRR@5 | HR@20 | p50 ms (batch 1) | seq/s (batch 256) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        cap = "" if r["max_blocks"] is None else r["max_blocks"]
        print(f"| {r['name']} | {cap} | {r['blocks_per_user']:.2f} of {r['num_blocks']} |"
              f" {r['mrr_at_5']:.4f} | {r['hr_at_20']:.4f} | {r['p50_ms']:.2f} | {r['throughput']:.0f} |")  # fmt: skip
    if FLAGS.out_json:
        with open(FLAGS.out_json, "w") as file:
            json.dump(rows, file, indent=1)
    if FLAGS.ranks_dir:
        save_ranks(points, paths)
    if FLAGS.out_png:
        draw(rows, FLAGS.out_png)
        print(f"Wrote {FLAGS.out_png}")


if __name__ == "__main__":
    app.run(main)
