"""Training diagnostics of several runs over the epochs: a PNG, one panel per metric.

Reads each run's `history.csv` (one line per epoch, the file TensorBoard's scalars mirror) and draws
the chosen columns against the epoch, one line per run: e.g. SkipRec-RL's `policy_entropy` and
`blocks_std`, which show a policy turning certain, and the same for everyone, within a few epochs.

Example:
  python tools/training_curves.py --runs="paper's reward=runs/rl_hit,policy lr 3e-4=runs/rl_plr" \
      --metrics=policy_entropy,blocks_std,val_mrr_at_5 --out_png=docs/adaptivity_mlsmall.png
"""

import matplotlib
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from absl import app, flags

from skiprec_tf.training.run_dir import RunDir

flags.DEFINE_list("runs", None, "NAME=RUN_DIR of each run.")
flags.DEFINE_list(
    "metrics", ["policy_entropy", "blocks_std", "val_mrr_at_5"], "history.csv columns."
)
flags.DEFINE_string("out_png", None, "Where to write the figure.")
flags.DEFINE_string("title", "", "Title of the figure.")
flags.mark_flags_as_required(["runs", "out_png"])
FLAGS = flags.FLAGS


def read_histories(specs):
    """`{name: history DataFrame}` of `NAME=RUN_DIR` specs; epochs counted from 1."""
    histories = {}
    for spec in specs:
        name, separator, path = spec.partition("=")
        if not separator:
            raise app.UsageError(f"--runs: {spec!r} is not NAME=RUN_DIR")
        history = pd.read_csv(RunDir(path).history_file)
        if len(history) and history["epoch"].iloc[0] == 0:  # written before epochs counted from 1
            history = history.assign(epoch=history["epoch"] + 1)
        histories[name] = history
    return histories


def main(argv):
    del argv
    histories = read_histories(FLAGS.runs)
    for name, history in histories.items():
        missing = [m for m in FLAGS.metrics if m not in history.columns]
        if missing:
            raise app.UsageError(f"{name}: history.csv has no {', '.join(missing)}")
    figure, axes = plt.subplots(
        1, len(FLAGS.metrics), figsize=(4.2 * len(FLAGS.metrics), 3.8), dpi=100, squeeze=False
    )
    for axis, metric in zip(axes[0], FLAGS.metrics):
        for name, history in histories.items():
            axis.plot(history["epoch"], history[metric], marker=".", label=name)
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), fontsize=7)
    figure.suptitle(FLAGS.title)
    figure.tight_layout(rect=(0, 0.12, 1, 0.95))
    figure.savefig(FLAGS.out_png)
    print(f"Wrote {FLAGS.out_png}")


if __name__ == "__main__":
    app.run(main)
