"""The SkipRec accuracy / block-usage table on one data set, several seeds (issue 3's benchmark).

For every seed it trains NextItNet+, then SkipRec-Gumbel and SkipRec-RL without ("one-stage")
and with ("w/ pre", --init_from the NextItNet+ run of the same seed) pre-training, and SkipRec
with the random policy; each run is `python -m skiprec_tf.main` in its own run directory under
--out_dir (finished runs are reused, so an interrupted benchmark continues). Prints mean and std
over the seeds of MRR@5, HR@5, HR@20, blocks used and the FLOP fraction, and the targets.

Example (ml-latest-small, t = 20, 32 blocks, d = 64, three seeds):
  python tools/benchmark_skiprec.py --data_path=../shared/data/ml-latest-small/ratings.csv \
      --seeds=0,1,2 --out_dir=runs/benchmark_mlsmall
"""

import os
import statistics
import subprocess
import sys

from absl import app, flags

from skiprec_tf.training.run_dir import RunDir

flags.DEFINE_string("data_path", "../shared/data/ml-latest-small/ratings.csv", "ratings.csv.")
flags.DEFINE_string("prefix", "flags/mlsmall", "Flagfiles <prefix>_{plus,gumbel,rl,random}.cfg.")
flags.DEFINE_list("seeds", ["0", "1", "2"], "Training seeds (the data split stays fixed).")
flags.DEFINE_string("out_dir", "runs/benchmark_mlsmall", "Where the run directories go.")
flags.DEFINE_list("extra", [], "Extra flags for every run, e.g. --extra=--epochs=5.")
FLAGS = flags.FLAGS

# (row name, flagfile suffix, two-stage)
MODELS = [
    ("NextItNet+", "plus", False),
    ("SkipRec-Gumbel", "gumbel", False),
    ("SkipRec-Gumbel w/ pre", "gumbel", True),
    ("SkipRec-RL", "rl", False),
    ("SkipRec-RL w/ pre", "rl", True),
    ("random policy", "random", False),
]


def run(name: str, suffix: str, pretrained: bool, seed: str) -> dict:
    run_dir = os.path.join(FLAGS.out_dir, f"{suffix}{'_pre' if pretrained else ''}_seed{seed}")
    run = RunDir(run_dir)
    if not os.path.exists(run.metrics_file):
        command = [
            sys.executable, "-m", "skiprec_tf.main",
            f"--flagfile={FLAGS.prefix}_{suffix}.cfg",
            f"--data_path={FLAGS.data_path}",
            f"--seed={seed}",
            f"--run_dir={run_dir}",
            *FLAGS.extra,
        ]  # fmt: skip
        if pretrained:
            command.append(f"--init_from={os.path.join(FLAGS.out_dir, f'plus_seed{seed}')}")
        if run.has_config():  # --resume of a directory without config.json is an error
            command.append("--resume")
        print(f"== {name}, seed {seed}: {' '.join(command[1:])}", flush=True)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return run.read_metrics()


def _mean_std(values):
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4f} ± {std:.4f}"


def main(argv):
    del argv
    rows = {
        name: [run(name, suffix, pre, seed) for seed in FLAGS.seeds] for name, suffix, pre in MODELS
    }
    print(f"\n{len(FLAGS.seeds)} seeds ({', '.join(FLAGS.seeds)}), mean ± std, test split:")
    header = f"{'model':<24}{'MRR@5':>18}{'HR@5':>18}{'HR@20':>18}{'blocks used':>18}{'FLOP fraction':>18}"
    print(header)
    for name, results in rows.items():
        usage = [r.get("block_usage", {}).get("usage_fraction", 1.0) for r in results]
        flops = [r.get("block_usage", {}).get("flop_fraction", 1.0) for r in results]
        cells = [
            _mean_std([r["test"][m] for r in results]) for m in ("mrr_at_5", "hr_at_5", "hr_at_20")
        ]
        print(
            f"{name:<24}{cells[0]:>18}{cells[1]:>18}{cells[2]:>18}{_mean_std(usage):>18}{_mean_std(flops):>18}"
        )
    base = statistics.mean(r["test"]["mrr_at_5"] for r in rows["NextItNet+"])
    print(
        "\nMRR@5 relative to NextItNet+ (target for SkipRec w/ pre: >= -3%, RL using <= 60% of blocks):"
    )
    for name, results in rows.items():
        mrr = statistics.mean(r["test"]["mrr_at_5"] for r in results)
        print(f"  {name:<24}{100 * (mrr / base - 1):+6.1f}%")


if __name__ == "__main__":
    app.run(main)
