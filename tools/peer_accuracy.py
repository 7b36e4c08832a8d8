"""A RecBole model trained and tested on the project's exact split, written as a run directory that
tools/compare_runs.py pairs with the project's runs over the test sequences.

The data flags of `skiprec_tf.main` (a --flagfile, --split_seed, ...) give the split, as for a
project run; the model flags that both sides share (--embedding_dim, --num_blocks, --num_heads,
--gru_layers, --caser_*, --dropout, --learning_rate, --batch_size, --epochs, --patience, --seed)
give RecBole's settings.
The training and the test run in RecBole's environment (`--peer_python`, never a project
dependency) through `tools/peers/recbole_fit.py`: RecBole's own model class, the project's
all-position cross-entropy over all items, early stopping on validation MRR@5, the test ranks of
the best epoch. The run directory then holds what a project run's does for `compare_runs.py`:
config (the tool's flags), metrics.json, history.csv and test_ranks.npz with the split's
fingerprint. A finished run directory is not trained again; an interrupted one continues from its
last epoch.

Example (issue 23: RecBole's 2-layer SASRec on ML-1M, t = 20, the split of seed 0):
  python tools/peer_accuracy.py --flagfile=flags/ml1m_plus.cfg --peer_model=sasrec_plus \
      --num_blocks=2 --num_heads=2 --dropout=0.2 --learning_rate=1e-3 --seed=0 \
      --peer_python=/work/recbole_venv/bin/python --run_dir=runs/ml1m_peer/sasrec_seed0
  python tools/compare_runs.py runs/ml1m_peer/sasrec_seed0 runs/ml1m_plus_seed0
"""

import csv
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
from absl import app, flags

from skiprec_tf import config_flags
from skiprec_tf.errors import SkipRecError
from skiprec_tf.evaluation.baselines import mean_metrics
from skiprec_tf.training.run_dir import RunDir

_PEERS = pathlib.Path(__file__).resolve().parent / "peers"
# The twin of each project model: RecBole's NextItNet (plain NextItNet, also NextItNet+'s peer),
# SASRec, GRU4Rec and Caser. NFM has none: RecBole's NFM is a context-aware model that scores
# (user, item) pairs by their fields, with no sequence to read.
PEER_MODELS = {
    "nextitnet_plus": "NextItNet",
    "sasrec_plus": "SASRec",
    "gru4rec": "GRU4Rec",
    "caser": "Caser",
}

config_flags.define_config_flags()
flags.DEFINE_string("peer_python", None, "Python of an environment with recbole and torch.")
flags.DEFINE_enum("peer_model", "sasrec_plus", sorted(PEER_MODELS), "RecBole's twin of this model.")
flags.DEFINE_integer("threads", 1, "torch threads of the peer; 0: torch's default.")
flags.DEFINE_string("run_dir", None, "The run directory written (and reused once finished).")
flags.mark_flags_as_required(["peer_python", "run_dir"])
FLAGS = flags.FLAGS


def peer_arguments(config, data_file: str, out_file: str) -> list:
    model, train = config.model, config.train
    return [
        f"--data={data_file}", f"--out={out_file}", f"--model={FLAGS.peer_model}",
        f"--embedding_dim={model.embedding_dim}", f"--num_blocks={model.num_blocks}",
        f"--num_heads={model.num_heads}", f"--dropout={model.dropout}",
        f"--gru_layers={model.gru_layers}", f"--caser_window={model.caser_window}",
        f"--caser_horizontal_filters={model.caser_horizontal_filters}",
        f"--caser_vertical_filters={model.caser_vertical_filters}",
        f"--batch_size={train.batch_size}", f"--eval_batch_size={train.eval_batch_size}",
        f"--learning_rate={train.learning_rate}", f"--epochs={train.epochs}",
        f"--patience={train.patience}", f"--threads={FLAGS.threads}", f"--seed={config.train.seed}",
    ]  # fmt: skip


def train_peer(config, data, run: RunDir) -> dict:
    """Runs `recbole_fit.py` on the split of `data`, its epoch lines shown as they come; returns
    its result (.npz entries)."""
    data_file = os.path.join(run.path, "peer_split.npz")
    out_file = os.path.join(run.path, "peer_result.npz")
    if not os.path.exists(out_file):
        np.savez(data_file, train=data.train, valid=data.valid, test=data.test,
                 num_items=data.num_items)  # fmt: skip
        command = [FLAGS.peer_python, str(_PEERS / "recbole_fit.py"),
                   *peer_arguments(config, data_file, out_file)]  # fmt: skip
        print(" ".join(command), flush=True)
        if subprocess.run(command, check=False).returncode:
            raise SkipRecError(f"{PEER_MODELS[FLAGS.peer_model]} failed: {' '.join(command)}")
        os.remove(data_file)
    with np.load(out_file) as result:
        return {name: result[name] for name in result.files}


def write_run(config, data, run: RunDir, result: dict) -> dict:
    """The run directory's metrics.json, history.csv and test_ranks.npz, as a project run's."""
    ranks = result["test_ranks"]
    history = json.loads(str(result["history"]))
    metrics = {
        "model": str(result["model"]),
        "test": mean_metrics(ranks),
        "best_valid_mrr_at_5": float(result["best_valid_mrr_at_5"]),
        "best_epoch": int(result["best_epoch"]),
        "epochs": len(history),
        "params": int(result["params"]),
        "peer_seq_per_s": float(np.median([epoch["seq_per_s"] for epoch in history])),
        "data": {"num_items": data.num_items, "train": len(data.train),
                 "valid": len(data.valid), "test": len(data.test)},
    }  # fmt: skip
    with open(os.path.join(run.path, "history.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)
    run.write_test_ranks({"model": ranks}, data.test)
    run.write_metrics(metrics)
    return metrics


def main(argv):
    del argv
    from skiprec_tf.data.sources import load_data

    try:
        config = config_flags.config_from_flags(FLAGS, run_dir=FLAGS.run_dir)
        run = RunDir(config.run_dir)
        if os.path.exists(run.metrics_file):
            metrics = run.read_metrics()
        else:
            os.makedirs(run.path, exist_ok=True)
            run.write_config(config)
            data = load_data(config.data)
            metrics = write_run(config, data, run, train_peer(config, data, run))
    except SkipRecError as error:
        sys.exit(f"error: {error}")
    test = metrics["test"]
    print(
        f"{metrics['model']} ({metrics['params']:,} weights), best validation MRR@5 "
        f"{metrics['best_valid_mrr_at_5']:.4f} at epoch {metrics['best_epoch']} of "
        f"{metrics['epochs']}: test MRR@5 {test['mrr_at_5']:.4f}, HR@20 {test['hr_at_20']:.4f} "
        f"({run.path})"
    )


if __name__ == "__main__":
    app.run(main, flags_parser=config_flags.parse_flags)
