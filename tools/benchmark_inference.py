"""Inference speed of exported models, measured in one run, alternating models.

Exports every named run to a SavedModel and loads it back the way TF Serving's model server does
(`--loader=session`: the SavedModel in a TF session, one `Session::Run` of the signature per
request), or with `tf.saved_model.load` (`--loader=eager`, which also pays a Python call per
captured variable). On the run's test split it measures batch-256 throughput (median over rounds
of full passes) and batch-1 latency (p50, p99 over single requests). Per model it prints the
measured speedup against the first (the backbone: NextItNet+ or SASRec+), the ideal speedup from the FLOPs actually
executed (policy network and output layer included, with the measured block usage), and their
ratio.

It also times every model with all of its blocks skipped (the policy network still runs): what a
request costs besides its blocks. From that and the backbone's time per block it prints the ratio a
model would reach if its blocks cost what the backbone's do and skipping cost nothing: the part of
the ideal that the fixed costs (request, lookup, policy network, output layer) already take.

With `--peer_python` (a python with recbole and torch), RecBole's model of the first run's backbone
(NextItNet or SASRec, the same V, t, d, blocks and heads) serves the same requests in a fresh
process (`tools/peers/recbole_serve.py`: `full_sort_predict` and top 20, `--intra_op_threads`
torch threads), once before and once after the project's timing, and the first model's
throughput and p50 latency are printed against its medians.

Example:
  python tools/benchmark_inference.py \
      --runs=NextItNet+=runs/mlsmall_plus,SkipRec-RL=runs/mlsmall_rl,SkipRec-Gumbel=runs/mlsmall_gumbel
"""

import functools
import json
import os
import pathlib
import subprocess
import tempfile

import numpy as np
import tensorflow as tf
from absl import app, flags

from skiprec_tf.data.sources import load_data
from skiprec_tf.evaluation.flops import inference_flops
from skiprec_tf.serving.export import RecommenderServing, export_saved_model
from skiprec_tf.serving.session import SessionServable
from skiprec_tf.serving.timing import elapsed, time_alternating
from skiprec_tf.training.run_dir import RunDir

flags.DEFINE_list("runs", [], "name=run_dir pairs; the first is the baseline (the backbone).")
flags.DEFINE_integer("rounds", 5, "Timed passes over the test split at batch 256, per model.")
flags.DEFINE_integer("batch_size", 256, "Batch of the throughput measurement.")
flags.DEFINE_integer("single_requests", 300, "Batch-1 requests timed per model.")
flags.DEFINE_enum("loader", "session", ["session", "eager"], "How the SavedModels are loaded.")
flags.DEFINE_integer(
    "inter_op_threads",
    0,
    "Threads that run independent ops (TF Serving: --tensorflow_inter_op_parallelism); 0 lets "
    "TensorFlow choose (one per core).",
)
flags.DEFINE_integer(
    "intra_op_threads",
    0,
    "Threads within one op, e.g. a matmul (TF Serving: --tensorflow_intra_op_parallelism); 0 lets "
    "TensorFlow choose (one per core).",
)
flags.DEFINE_string(
    "peer_python", "", "Python of an environment with recbole and torch; empty: no peer."
)
FLAGS = flags.FLAGS

_PEER = pathlib.Path(__file__).resolve().parent / "peers" / "recbole_serve.py"
PEER_NAMES = {"nextitnet_plus": "NextItNet", "sasrec_plus": "SASRec"}


def _session_signature(path, session_config):
    """`serving_default` of the SavedModel at `path` loaded into its own TF session, as TF
    Serving loads it: a callable from an int64 batch to its outputs as numpy arrays."""
    return SessionServable(path, session_config).item_ids_callable()


def _eager_signature(path, session_config):
    del session_config  # the eager runtime's threads are set in main
    signature = tf.saved_model.load(path).signatures["serving_default"]
    return lambda batch: {
        name: value.numpy() for name, value in signature(item_ids=tf.constant(batch)).items()
    }


LOADERS = {"session": _session_signature, "eager": _eager_signature}


SERVED, NO_BLOCKS = 0, 1  # the two exports of every model


class _NoBlocks(RecommenderServing):
    """The same export with every block skipped; the policy still decides (`blocks_used`)."""

    def run_blocks(self, hidden, actions, padding_mask, static=False):
        return hidden


def _prepare(name, run_dir, export_dir, load):
    """The run's config, its export and its no-block twin loaded by `load` (indexed by SERVED and
    NO_BLOCKS), the raw test requests, V, and the requests as the model's item indices."""
    config, model, item_ids = RunDir(run_dir).load_model()
    model_name = name.replace("+", "plus").replace(" ", "_")
    signatures = [
        load(export_saved_model(kind(model, item_ids, config.data.input_length), export_dir, model_name + suffix))
        for kind, suffix in ((RecommenderServing, ""), (_NoBlocks, "_no_blocks"))
    ]  # fmt: skip
    data = load_data(config.data)
    requests = item_ids[data.test[:, :-1]]  # raw ids, as a client sends them
    return config, signatures, requests, len(item_ids) - 1, data.test[:, :-1]


class _Floor(tf.Module):
    """A signature that returns its input: the cost of a request that computes nothing."""

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int64, name="item_ids")])
    def serve(self, item_ids):
        return {"item_ids": tf.identity(item_ids)}


def _print_speedups(names, blocks, ideal, pass_time, latencies, num_users):
    """Per model: measured speedup against the first, ideal speedup and their ratio."""
    base = names[0]
    p50 = {name: np.percentile(latencies[name, SERVED], 50) for name in names}
    print(f"{'model':<18}{'blocks':>8}{'batch-256 seq/s':>17}{'speedup':>9}{'ideal':>7}{'ratio':>7}"
          f"{'p50 ms':>9}{'p99 ms':>9}{'speedup':>9}{'ideal':>7}{'ratio':>7}")  # fmt: skip
    for name in names:
        p99 = np.percentile(latencies[name, SERVED], 99)
        batch_speedup = pass_time[base, SERVED] / pass_time[name, SERVED]
        single_speedup = p50[base] / p50[name]
        print(f"{name:<18}{blocks[name].mean():>8.2f}{num_users / pass_time[name, SERVED]:>17.0f}{batch_speedup:>8.2f}x"
              f"{ideal[name]:>6.2f}x{batch_speedup / ideal[name]:>7.2f}{p50[name]:>9.2f}{p99:>9.2f}{single_speedup:>8.2f}x"
              f"{ideal[name]:>6.2f}x{single_speedup / ideal[name]:>7.2f}")  # fmt: skip


def _print_reachable(names, blocks, ideal, pass_time, latencies, num_users, num_blocks):
    """What the fixed costs leave: each model's no-block time plus its blocks at the backbone's
    cost per block, against the backbone."""
    base = names[0]
    p50 = {key: np.percentile(times, 50) for key, times in latencies.items()}
    per_block_pass = (pass_time[base, SERVED] - pass_time[base, NO_BLOCKS]) / num_blocks
    per_block_p50 = (p50[base, SERVED] - p50[base, NO_BLOCKS]) / num_blocks
    print(
        f"\nWith every block skipped (the policy still runs). {base}'s blocks cost"
        f" {1000 * per_block_pass / num_users:.3f} ms per user each at batch {FLAGS.batch_size}"
        f" and {per_block_p50:.3f} ms each at batch 1. 'Reachable' is the ratio of a model whose"
        f" blocks cost that and whose skipping costs nothing."
    )
    print(f"{'model':<18}{'batch-256 seq/s':>17}{'reachable':>11}{'p50 ms':>9}{'reachable':>11}")
    for name in names:
        batch_bound = pass_time[name, NO_BLOCKS] + blocks[name].mean() * per_block_pass
        single_bound = p50[name, NO_BLOCKS] + blocks[name].mean() * per_block_p50
        print(f"{name:<18}{num_users / pass_time[name, NO_BLOCKS]:>17.0f}"
              f"{pass_time[base, SERVED] / batch_bound / ideal[name]:>11.2f}{p50[name, NO_BLOCKS]:>9.2f}"
              f"{p50[base, SERVED] / single_bound / ideal[name]:>11.2f}")  # fmt: skip


def _time_peer(config, inputs, num_items, path, rounds):
    """RecBole's twin of `config`'s backbone serving `inputs` (`tools/peers/recbole_serve.py`)."""
    env = dict(os.environ)
    if FLAGS.intra_op_threads:
        env["OMP_NUM_THREADS"] = str(FLAGS.intra_op_threads)
    np.save(path, inputs)
    model = config.model
    command = [
        FLAGS.peer_python, str(_PEER), f"--sequences={path}", f"--num_items={num_items}",
        f"--model={model.backbone}", f"--embedding_dim={model.embedding_dim}",
        f"--num_blocks={model.num_blocks}", f"--num_heads={model.num_heads}",
        f"--batch_size={FLAGS.batch_size}", f"--rounds={rounds}",
        f"--single_requests={FLAGS.single_requests}", f"--threads={FLAGS.intra_op_threads}",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode or not lines:
        raise RuntimeError(f"{_PEER} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return json.loads(lines[-1])


def _print_peer(name, backbone, peers, pass_time, latencies, num_users):
    """RecBole's medians (both of its processes pooled) against the first model's."""
    pass_seconds = [s for peer in peers for s in peer["pass_seconds"]]
    peer_latencies = [ms for peer in peers for ms in peer["latencies_ms"]]
    peer_pass, peer_p50 = np.median(pass_seconds), np.percentile(peer_latencies, 50)
    p50 = np.percentile(latencies[name, SERVED], 50)
    print(
        f"\nRecBole {PEER_NAMES[backbone]} ({peers[0]['model']}, the same V, t, d, blocks and"
        f" heads; torch threads {peers[0]['torch_threads']}; before and after the timing above):"
        f" batch-{FLAGS.batch_size} {num_users / peer_pass:.0f} seq/s (passes"
        f" {', '.join(f'{num_users / s:.0f}' for s in pass_seconds)}), p50"
        f" {peer_p50:.2f} ms, p99 {np.percentile(peer_latencies, 99):.2f} ms."
        f" {name} against it: throughput {peer_pass / pass_time[name, SERVED]:.2f}x,"
        f" p50 latency {p50 / peer_p50:.2f}x"
    )


def _time_served(names, models, requests, load, export_dir):
    """An empty signature's latencies, the single requests, the blocks each test user runs per
    model, and every model's pass times and latencies with and without its blocks, timed in
    turns (`time_alternating`)."""
    batches = [
        requests[i : i + FLAGS.batch_size] for i in range(0, len(requests), FLAGS.batch_size)
    ]
    singles = [requests[i : i + 1] for i in range(min(FLAGS.single_requests, len(requests)))]
    floor_path = f"{export_dir}/floor"
    tf.saved_model.save(_Floor(), floor_path)
    floor = load(floor_path)
    floor_latencies = [1000 * elapsed(floor, [single]) for single in singles + singles]
    serves = {
        (name, variant): models[name][1][variant]
        for name in names
        for variant in (SERVED, NO_BLOCKS)
    }
    blocks = {}
    for (name, _), serve in serves.items():  # warm-up, and the blocks each test user runs
        used = np.concatenate([serve(batch)["blocks_used"] for batch in batches])
        blocks.setdefault(name, used)
        serve(singles[0])
    pass_time, latencies = time_alternating(serves, batches, singles, FLAGS.rounds)
    return floor_latencies, singles, blocks, pass_time, latencies


def main(argv):
    del argv
    tf.config.threading.set_inter_op_parallelism_threads(FLAGS.inter_op_threads)
    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.intra_op_threads)
    load = functools.partial(
        LOADERS[FLAGS.loader],
        session_config=tf.compat.v1.ConfigProto(
            inter_op_parallelism_threads=FLAGS.inter_op_threads,
            intra_op_parallelism_threads=FLAGS.intra_op_threads,
        ),
    )
    names, models = [], {}
    with tempfile.TemporaryDirectory() as export_dir:
        for pair in FLAGS.runs:
            name, run_dir = pair.split("=", 1)
            names.append(name)
            models[name] = _prepare(name, run_dir, export_dir, load)
        base_config, _, requests, num_items, inputs = models[names[0]]
        backbone = base_config.model.backbone
        if FLAGS.peer_python and backbone not in PEER_NAMES:
            raise app.UsageError(f"--peer_python: RecBole has no twin of {backbone}")
        peer_inputs = f"{export_dir}/peer_inputs.npy"

        def time_peer():
            return _time_peer(base_config, inputs, num_items, peer_inputs, FLAGS.rounds)

        peers = [time_peer()] if FLAGS.peer_python else []  # RecBole's twin before, and after
        floor_latencies, singles, blocks, pass_time, latencies = _time_served(
            names, models, requests, load, export_dir
        )
        peers += [time_peer()] if FLAGS.peer_python else []

    base = names[0]
    seq_len = base_config.data.input_length

    def ideal_flops(name):
        config = models[name][0]
        return inference_flops(
            config.model, config.policy.policy, seq_len, num_items, blocks[name].mean()
        )

    ideal = {name: ideal_flops(base) / ideal_flops(name) for name in names}

    print(
        f"\nThreads: inter-op {FLAGS.inter_op_threads or 'TF default'}, intra-op"
        f" {FLAGS.intra_op_threads or 'TF default'}."
    )
    print(
        f"Loader {FLAGS.loader}: a signature that computes nothing takes"
        f" {np.median(floor_latencies):.2f} ms (p50) per request, part of every latency below."
    )
    print(
        f"{len(requests)} test users, t - 1 = {seq_len}, {num_items} items; {FLAGS.rounds} rounds, {len(singles)} single requests"
    )
    _print_speedups(names, blocks, ideal, pass_time, latencies, len(requests))
    num_blocks = base_config.model.num_blocks
    _print_reachable(names, blocks, ideal, pass_time, latencies, len(requests), num_blocks)
    if peers:
        _print_peer(base, backbone, peers, pass_time, latencies, len(requests))


if __name__ == "__main__":
    app.run(main)
