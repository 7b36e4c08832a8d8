"""A resumable grid of runs over flag settings, ranked by validation MRR@5 (never by test figures).

Every setting (flag overrides separated by spaces; settings separated by `;`) is trained once
per seed with `python -m skiprec_tf.main` into `<out_dir>/<setting>_seed<seed>`. A finished run (its
metrics.json) is not trained again and an interrupted one is resumed, so the grid can be stopped
and restarted at will (run it under nohup). The table ranks the settings by their mean best
validation MRR@5 over the seeds; test figures are printed only with --show_test, for the setting
chosen.

Example:
  nohup python tools/grid.py --flagfile_base=flags/mlsmall_plus.cfg --out_dir=runs/grid_mlsmall \
      --settings="--dropout=0;--dropout=0.2;--dropout=0.2 --weight_decay=0.1" \
      --extra="--epochs=40 --patience=5" --seeds=0 > grid.log 2>&1 &
"""

import os
import re
import statistics
import subprocess
import sys

from absl import app, flags

from skiprec_tf.training.run_dir import RunDir

flags.DEFINE_string("flagfile_base", None, "The flagfile every run starts from.")
flags.DEFINE_string("out_dir", None, "Directory of the grid's run directories.")
flags.DEFINE_string("settings", "", "Settings separated by ';', each flags separated by spaces.")
flags.DEFINE_string("extra", "", "Flags added to every run (e.g. --epochs=40 --patience=5).")
flags.DEFINE_list("seeds", ["0"], "Training seeds of every setting.")
flags.DEFINE_bool("show_test", False, "Also print test MRR@5 / HR@20 (for the chosen setting).")
flags.DEFINE_bool("train", True, "Train missing runs; --notrain only prints the table.")
flags.mark_flags_as_required(["flagfile_base", "out_dir"])
FLAGS = flags.FLAGS


def setting_name(setting: str) -> str:
    """A directory name of a setting: its flags without dashes, `=` kept."""
    return re.sub(r"[^A-Za-z0-9_.=]+", "_", setting.replace("--", "").strip()) or "base"


def train(setting: str, seed: str) -> RunDir:
    run = RunDir(os.path.join(FLAGS.out_dir, f"{setting_name(setting)}_seed{seed}"))
    if os.path.exists(run.metrics_file) or not FLAGS.train:
        return run
    command = [
        sys.executable, "-m", "skiprec_tf.main", f"--flagfile={FLAGS.flagfile_base}",
        *FLAGS.extra.split(), *setting.split(), f"--seed={seed}", f"--run_dir={run.path}",
    ]  # fmt: skip
    if run.holds_run() or run.has_config():  # main refuses either without --resume
        command.append("--resume")
    print(f"== {' '.join(command[2:])}", flush=True)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return run


def main(argv):
    del argv
    settings = [s.strip() for s in FLAGS.settings.split(";")]
    rows = []
    for setting in settings:
        runs = [train(setting, seed) for seed in FLAGS.seeds]
        results = [run.read_metrics() for run in runs if os.path.exists(run.metrics_file)]
        if not results:
            continue
        valid = [r["best_valid_mrr_at_5"] for r in results]
        test = [(r["test"]["mrr_at_5"], r["test"]["hr_at_20"]) for r in results]
        rows.append((statistics.mean(valid), setting, valid, test, results[0]))
    print(f"\n{FLAGS.flagfile_base} {FLAGS.extra}, seeds {','.join(FLAGS.seeds)}")
    print(f"{'valid MRR@5':>12}  {'seeds':>6}  setting")
    for mean, setting, valid, test, first in sorted(rows, reverse=True):
        line = f"{mean:>12.4f}  {len(valid):>6}  {setting or '(flagfile)'}"
        if FLAGS.show_test:
            line += "   test MRR@5 {:.4f} HR@20 {:.4f}".format(
                *(statistics.mean(values) for values in zip(*test))
            )
            line += "   Markov {:.4f} / {:.4f}".format(
                first["markov_chain"]["mrr_at_5"], first["markov_chain"]["hr_at_20"]
            )
        print(line)


if __name__ == "__main__":
    app.run(main)
