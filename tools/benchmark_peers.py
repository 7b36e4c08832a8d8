"""Training cost of NextItNet+ and SASRec+ beside RecBole's NextItNet and SASRec.

Writes the training sequences once to a .npy, then per model runs `--rounds` rounds, each one
fresh process of the project (`tools/peers/project_train.py`: `build_model` and `model.fit` on
`training_batches`, as tools/benchmark_train.py) and, with `--peer_python`, one of RecBole
(`tools/peers/recbole_train.py`, run by that python: RecBole's model with loss_type CE made
all-position, a plain Adam loop), alternating project, peer, project, peer, ... so that a slower
spell of a shared machine hits both. Each process trains `--warmup_steps` untimed steps, then
`--steps` timed ones, and reports sequences/s and its peak resident memory (with --jit_compile,
an epoch's partial last batch is a new shape that XLA compiles at its first step: the tool warns
if that step is a timed one). Prints the medians side by side and project/peer; > 1 means the
project trains faster (seq/s) or needs more memory (MiB).

For NextItNet+, each round also times the step's float32 ceiling on this machine
(`tools/peers/matmul_ceiling.py`: its matrix products alone, which both sides compute), in
turns with the two sides, and prints each side's seq/s as a share of it: a target above the
ceiling needs fewer FLOPs or a narrower float type, not faster code.

Both sides: the same sequences and V, t, d, N, batch, Adam 1e-3, no dropout, the full softmax
over all V + 1 ids at every position (padding targets masked), `--threads` threads (TF intra- and
inter-op, torch.set_num_threads). SASRec: `--num_heads` heads, FFN width 4 d on both sides.
Not matched (the models as each project defines them): NextItNet+ and SASRec+ have a ReZero
lambda per block and a separate output layer W (RecBole: NextItNet a final d x d layer, both
score by the item embeddings); SASRec+ is pre-norm, RecBole's SASRec post-norm.

Examples (V = 3651 as ml-latest-small after the protocol; pin to one core on a shared machine):
  taskset -c 0 python tools/benchmark_peers.py --models=nextitnet_plus --embedding_dim=64 \
      --peer_python=/work/recbole_venv/bin/python --rounds=3 --steps=20
  python tools/benchmark_peers.py --models=sasrec_plus --embedding_dim=64 --jit_compile \
      --peer_python=/work/recbole_venv/bin/python
  python tools/benchmark_peers.py --data_format=movielens_csv \
      --data_path=../shared/data/ml-latest-small/ratings.csv --embedding_dim=256
"""

import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

import numpy as np
from absl import app, flags

from skiprec_tf.config import DATA_FORMATS

_TOOLS = pathlib.Path(__file__).resolve().parent
_REPO = _TOOLS.parent
MODELS = ("nextitnet_plus", "sasrec_plus")
PEER_NAMES = {"nextitnet_plus": "NextItNet", "sasrec_plus": "SASRec"}

flags.DEFINE_list("models", list(MODELS), f"Project models to time: {', '.join(MODELS)}.")
flags.DEFINE_integer("embedding_dim", 64, "d.", lower_bound=1)
flags.DEFINE_integer("num_blocks", 32, "N: blocks of both sides.", lower_bound=1)
flags.DEFINE_integer("num_heads", 2, "SASRec's attention heads.", lower_bound=1)
flags.DEFINE_integer("seq_len", 20, "t: the inputs are t - 1 items.", lower_bound=2)
flags.DEFINE_integer("batch_size", 256, "Sequences per step.", lower_bound=1)
flags.DEFINE_enum("data_format", "synthetic", DATA_FORMATS, "As skiprec_tf.main's.")
flags.DEFINE_string("data_path", "", "The data file of a --data_format other than synthetic.")
flags.DEFINE_integer("synthetic_items", 3651, "V of the synthetic data.", lower_bound=4)
flags.DEFINE_integer("synthetic_users", 4000, "Sequences of the synthetic data.", lower_bound=1)
flags.DEFINE_integer("rounds", 3, "Processes per side and model.", lower_bound=1)
flags.DEFINE_integer("warmup_steps", 3, "Untimed steps of every process first.", lower_bound=1)
flags.DEFINE_integer("steps", 20, "Timed steps of every process.", lower_bound=1)
flags.DEFINE_integer("threads", 1, "Threads of each side; 0: each framework's default.")
flags.DEFINE_bool("jit_compile", False, "The project's train step compiled with XLA.")
flags.DEFINE_string(
    "peer_python", "", "Python of an environment with recbole and torch; empty: project only."
)
flags.DEFINE_integer("seed", 0, "Seed of the data, the weights and the batch order.")
flags.DEFINE_bool(
    "ceiling", True, "For NextItNet+, also time the step's matmuls alone (its float32 ceiling)."
)
FLAGS = flags.FLAGS


def training_sequences():
    """`([n, t] int32 sequences, V, description)` of the flags' data."""
    if FLAGS.data_format == "synthetic":
        from skiprec_tf.data.synthetic import generate_interactions

        interactions, _ = generate_interactions(
            num_users=FLAGS.synthetic_users,
            num_items=FLAGS.synthetic_items,
            seq_len=FLAGS.seq_len,
            seed=FLAGS.seed,
        )
        # t interactions per user in time order: one sequence each, ids 1..V.
        sequences = interactions["item"].to_numpy().reshape(-1, FLAGS.seq_len)
        return sequences.astype(np.int32), FLAGS.synthetic_items, "synthetic"
    from skiprec_tf.config import DataConfig
    from skiprec_tf.data.sources import load_data

    data = load_data(
        DataConfig(format=FLAGS.data_format, path=FLAGS.data_path, seq_len=FLAGS.seq_len)
    )
    return data.train, data.num_items, f"{FLAGS.data_path} (train split)"


def run(command, env) -> dict:
    """The JSON line a worker process prints last."""
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode or not lines:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-3000:]}"
        )
    return json.loads(lines[-1])


def worker_env() -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO), env.get("PYTHONPATH")]))
    if FLAGS.threads:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(FLAGS.threads)
    return env


def _median(runs, key):
    return statistics.median(r[key] for r in runs) if runs else None


def _ratio(a, b) -> str:
    return f"{a / b:.2f}" if a and b else "-"


def _figure(value) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _values(runs, key) -> str:
    return ", ".join(f"{r[key]:.0f}" for r in runs)


def _share(value, ceiling) -> str:
    return f"{value / ceiling:.0%}" if value and ceiling else "-"


def print_table(results: dict, num_sequences: int, num_items: int, description: str) -> None:
    """Medians per model: project, peer and project/peer of seq/s and peak MiB; the float32
    ceiling and each side's share of it; then each side's rounds."""
    xla = "on" if FLAGS.jit_compile else "off"
    print(
        f"\nV={num_items} items ({description}, {num_sequences} sequences), t={FLAGS.seq_len}, "
        f"d={FLAGS.embedding_dim}, {FLAGS.num_blocks} blocks, {FLAGS.num_heads} heads (SASRec), "
        f"batch {FLAGS.batch_size}, threads {FLAGS.threads or 'default'}, project XLA {xla}; "
        f"medians of {FLAGS.rounds} processes per side, {FLAGS.warmup_steps} warm-up + "
        f"{FLAGS.steps} timed steps each"
    )
    print(
        f"{'model':<16}{'peer':<11}{'project seq/s':>14}{'peer seq/s':>12}{'ratio':>7}"
        f"{'project MiB':>13}{'peer MiB':>10}{'ratio':>7}"
    )
    details, shares = [], []
    for model, sides in results.items():
        project, peer, ceiling = sides["project"], sides["peer"], sides["ceiling"]
        speed = _median(project, "seq_per_s"), _median(peer, "seq_per_s")
        memory = _median(project, "peak_rss_mib"), _median(peer, "peak_rss_mib")
        print(
            f"{model:<16}{PEER_NAMES[model] if peer else '-':<11}"
            f"{_figure(speed[0]):>14}{_figure(speed[1]):>12}{_ratio(*speed):>7}"
            f"{_figure(memory[0]):>13}{_figure(memory[1]):>10}{_ratio(*memory):>7}"
        )
        if ceiling:
            limit = _median(ceiling, "seq_per_s")
            gflop, rate = _median(ceiling, "gflop"), _median(ceiling, "gflop_per_s")
            shares.append(
                f"  {model}: the step's matmuls alone (float32 ceiling) {limit:,.0f} seq/s "
                f"({gflop:.1f} GFLOP/step at {rate:.1f} GFLOP/s; rounds "
                f"{_values(ceiling, 'seq_per_s')}); "
                f"project {_share(speed[0], limit)} of it, peer {_share(speed[1], limit)}"
            )
        for side in ("project", "peer"):
            runs = sides[side]
            if runs:
                details.append(
                    f"  {model} {side}: seq/s {_values(runs, 'seq_per_s')}; ms/step "
                    f"{_median(runs, 'ms_per_step'):.1f}; peak MiB {_values(runs, 'peak_rss_mib')} "
                    f"(after imports and data {runs[0]['base_rss_mib']:.0f}); warm-up "
                    f"{_median(runs, 'warmup_s'):.1f} s; params {runs[0]['params']:,}; "
                    f"first-step loss {runs[0]['first_loss']:.3f}"
                )
    if shares:
        print("float32 ceiling (tools/peers/matmul_ceiling.py):\n" + "\n".join(shares))
    print("\n".join(details))


def warn_of_timed_compilation(num_sequences: int) -> None:
    """Under XLA, an epoch's partial last batch is a new shape, compiled at its first step: warns
    when that step is a timed one."""
    per_epoch = -(-num_sequences // FLAGS.batch_size)
    partial = num_sequences % FLAGS.batch_size
    timed = FLAGS.warmup_steps < per_epoch <= FLAGS.warmup_steps + FLAGS.steps
    if FLAGS.jit_compile and partial and timed:
        print(
            f"warning: step {per_epoch}, a timed one, is the first partial batch ({partial} "
            f"sequences), which XLA compiles anew: its compilation is timed; pass "
            f"--warmup_steps={per_epoch} or fewer --steps",
            file=sys.stderr,
        )


def main(argv):
    del argv
    unknown = set(FLAGS.models) - set(MODELS)
    if unknown or not FLAGS.models:
        raise app.UsageError(f"--models must name some of {', '.join(MODELS)}, got {unknown}")
    if FLAGS.data_format != "synthetic" and not FLAGS.data_path:
        raise app.UsageError(f"--data_path is required for --data_format={FLAGS.data_format}")
    sequences, num_items, description = training_sequences()
    warn_of_timed_compilation(len(sequences))
    env = worker_env()
    results = {model: {"project": [], "peer": [], "ceiling": []} for model in FLAGS.models}
    with tempfile.TemporaryDirectory(prefix="benchmark_peers_") as tmp:
        path = os.path.join(tmp, "sequences.npy")
        np.save(path, sequences)
        common = [
            f"--sequences={path}",
            f"--num_items={num_items}",
            f"--embedding_dim={FLAGS.embedding_dim}",
            f"--num_blocks={FLAGS.num_blocks}",
            f"--num_heads={FLAGS.num_heads}",
            f"--batch_size={FLAGS.batch_size}",
            f"--warmup_steps={FLAGS.warmup_steps}",
            f"--steps={FLAGS.steps}",
            f"--threads={FLAGS.threads}",
            f"--seed={FLAGS.seed}",
        ]
        xla = "--jit_compile" if FLAGS.jit_compile else "--nojit_compile"
        commands = {
            "project": [sys.executable, str(_TOOLS / "peers" / "project_train.py"), xla],
            "peer": [FLAGS.peer_python, str(_TOOLS / "peers" / "recbole_train.py")],
        }
        ceiling = [
            sys.executable,
            str(_TOOLS / "peers" / "matmul_ceiling.py"),
            f"--num_items={num_items}",
            f"--embedding_dim={FLAGS.embedding_dim}",
            f"--num_blocks={FLAGS.num_blocks}",
            f"--seq_len={FLAGS.seq_len}",
            f"--batch_size={FLAGS.batch_size}",
            f"--threads={FLAGS.threads}",
        ]
        for model in FLAGS.models:
            sides = ("project", "peer") if FLAGS.peer_python else ("project",)
            if model == "nextitnet_plus" and FLAGS.ceiling:
                sides += ("ceiling",)
            for round_ in range(FLAGS.rounds):
                for side in sides:
                    if side == "ceiling":
                        command = ceiling
                    else:
                        command = [*commands[side], *common, f"--model={model}"]
                    result = run(command, env)
                    results[model][side].append(result)
                    memory = f", {result['peak_rss_mib']:.0f} MiB" if side != "ceiling" else ""
                    print(
                        f"{model} round {round_ + 1}/{FLAGS.rounds} {side}: "
                        f"{result['seq_per_s']:.0f} seq/s, {result['ms_per_step']:.1f} ms/step"
                        f"{memory}",
                        file=sys.stderr,
                        flush=True,
                    )
    print_table(results, len(sequences), num_items, description)


if __name__ == "__main__":
    sys.exit(app.run(main))
