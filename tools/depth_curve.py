"""Test accuracy against the number of blocks: a table and a PNG over finished runs.

Groups the given run directories by backbone and number of blocks N, averages their test MRR@5
and HR@20 over the seeds, and draws both against N (log scale), with the runs' Markov chain as a
horizontal line. Every run must be on the same split.

Example (the runs of two `tools/grid.py` grids over --num_blocks):
  python tools/depth_curve.py --runs='runs/depth_nextitnet/*,runs/depth_sasrec/*' \
      --out_png=docs/depth_mlsmall.png --title="ml-latest-small"
"""

import collections
import glob
import os
import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from absl import app, flags

from skiprec_tf.training.run_dir import RunDir

flags.DEFINE_list("runs", None, "Run directories (glob patterns allowed).")
flags.DEFINE_string("out_png", None, "Where to write the figure.")
flags.DEFINE_string("title", "", "Title of the figure (the data set).")
flags.mark_flags_as_required(["runs", "out_png"])
FLAGS = flags.FLAGS
METRICS = (("mrr_at_5", "MRR@5"), ("hr_at_20", "HR@20"))


def collect(paths):
    """`{(backbone, N): [test metrics of each seed]}` and the Markov chain's test metrics."""
    groups, markov, splits = collections.defaultdict(list), None, set()
    for path in paths:
        run = RunDir(path)
        metrics = run.read_metrics()
        config = run.read_config()
        groups[(config.model.backbone, config.model.num_blocks)].append(metrics["test"])
        markov = metrics["markov_chain"]
        splits.add(run.read_test_ranks()[1])
    if len(splits) > 1:
        raise SystemExit(f"the runs are on {len(splits)} different splits")
    return groups, markov


def main(argv):
    del argv
    paths = sorted(
        path
        for pattern in FLAGS.runs
        for path in glob.glob(pattern)
        if os.path.isfile(RunDir(path).metrics_file)
    )
    if not paths:
        raise SystemExit(f"no finished runs in {FLAGS.runs}")
    groups, markov = collect(paths)
    print("| backbone | blocks N | seeds | test MRR@5 | test HR@20 |")
    print("|---|---|---|---|---|")
    for (backbone, blocks), runs in sorted(groups.items()):
        means = [statistics.mean(run[key] for run in runs) for key, _ in METRICS]
        print(f"| {backbone} | {blocks} | {len(runs)} | {means[0]:.4f} | {means[1]:.4f} |")
    print(f"| Markov chain | | | {markov['mrr_at_5']:.4f} | {markov['hr_at_20']:.4f} |")
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.8), dpi=100)
    for axis, (key, label) in zip(axes, METRICS):
        for backbone in sorted({b for b, _ in groups}):
            depths = sorted(n for b, n in groups if b == backbone)
            means = [statistics.mean(run[key] for run in groups[(backbone, n)]) for n in depths]
            axis.plot(depths, means, marker="o", label=backbone)
        axis.axhline(markov[key], color="gray", linestyle="--", label="Markov chain")
        axis.set_xscale("log", base=2)
        axis.set_xlabel("residual blocks N")
        axis.set_ylabel(f"test {label}")
        axis.grid(alpha=0.3)
    axes[0].legend()
    figure.suptitle(f"Test accuracy against depth {FLAGS.title}".strip())
    figure.tight_layout()
    figure.savefig(FLAGS.out_png)
    print(f"Wrote {FLAGS.out_png}")


if __name__ == "__main__":
    app.run(main)
