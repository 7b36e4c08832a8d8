"""Inference speed of exported models, measured in one run, alternating models.

Exports every named run to a SavedModel and loads it back the way TF Serving's model server does
(`--loader=session`: the SavedModel in a TF session, one `Session::Run` of the signature per
request), or with `tf.saved_model.load` (`--loader=eager`, which also pays a Python call per
captured variable). On the run's test split it measures batch-256 throughput (median over rounds
of full passes) and batch-1 latency (p50, p99 over single requests). Per model it prints the
measured speedup against the first (NextItNet+), the ideal speedup from the FLOPs actually
executed (policy network and output layer included, with the measured block usage), and their
ratio.

Example:
  python tools/benchmark_inference.py \
      --runs=NextItNet+=runs/mlsmall_plus,SkipRec-RL=runs/mlsmall_rl,SkipRec-Gumbel=runs/mlsmall_gumbel
"""

import statistics
import tempfile
import time

import numpy as np
import tensorflow as tf
from absl import app, flags

from skiprec_tf.data.sources import load_data
from skiprec_tf.export import RecommenderServing, export_saved_model
from skiprec_tf.flops import inference_flops
from skiprec_tf.runs import load_run

flags.DEFINE_list("runs", [], "name=run_dir pairs; the first is the baseline (NextItNet+).")
flags.DEFINE_integer("rounds", 5, "Timed passes over the test split at batch 256, per model.")
flags.DEFINE_integer("batch_size", 256, "Batch of the throughput measurement.")
flags.DEFINE_integer("single_requests", 300, "Batch-1 requests timed per model.")
flags.DEFINE_enum("loader", "session", ["session", "eager"], "How the SavedModels are loaded.")
FLAGS = flags.FLAGS


def _session_signature(path):
    """`serving_default` of the SavedModel at `path` loaded into its own TF session, as TF
    Serving loads it: a callable from an int64 batch to its outputs as numpy arrays."""
    graph = tf.Graph()
    with graph.as_default():
        session = tf.compat.v1.Session(graph=graph)
        signature = tf.compat.v1.saved_model.loader.load(session, ["serve"], path).signature_def[
            "serving_default"
        ]
        names = sorted(signature.outputs)
        run = session.make_callable(
            [signature.outputs[name].name for name in names],
            [signature.inputs["item_ids"].name],
        )
    return lambda batch: dict(zip(names, run(batch)))


def _eager_signature(path):
    signature = tf.saved_model.load(path).signatures["serving_default"]
    return lambda batch: {
        name: value.numpy() for name, value in signature(item_ids=tf.constant(batch)).items()
    }


LOADERS = {"session": _session_signature, "eager": _eager_signature}


def _prepare(name, run_dir, export_dir, loader):
    config, model, item_ids = load_run(run_dir)
    serving = RecommenderServing(model, item_ids, config.data.seq_len - 1)
    path = export_saved_model(serving, export_dir, name.replace("+", "plus").replace(" ", "_"))
    data = load_data(config.data)
    requests = item_ids[data.test[:, :-1]]  # raw ids, as a client sends them
    return config, LOADERS[loader](path), requests, len(item_ids) - 1


class _Floor(tf.Module):
    """A signature that returns its input: the cost of a request that computes nothing."""

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int64, name="item_ids")])
    def serve(self, item_ids):
        return {"item_ids": tf.identity(item_ids)}


def main(argv):
    del argv
    names, models = [], {}
    with tempfile.TemporaryDirectory() as export_dir:
        for pair in FLAGS.runs:
            name, run_dir = pair.split("=", 1)
            names.append(name)
            models[name] = _prepare(name, run_dir, export_dir, FLAGS.loader)
        requests = models[names[0]][2]
        batches = [
            requests[i : i + FLAGS.batch_size] for i in range(0, len(requests), FLAGS.batch_size)
        ]
        singles = [requests[i : i + 1] for i in range(min(FLAGS.single_requests, len(requests)))]
        floor_path = f"{export_dir}/floor"
        tf.saved_model.save(_Floor(), floor_path)
        floor = LOADERS[FLAGS.loader](floor_path)
        floor_latencies = []
        for single in singles + singles:
            start = time.perf_counter()
            floor(single)
            floor_latencies.append(1000 * (time.perf_counter() - start))
        blocks = {}
        for name in names:  # warm-up, and the blocks each test user runs
            serve = models[name][1]
            blocks[name] = np.concatenate([serve(batch)["blocks_used"] for batch in batches])
            serve(singles[0])
        passes = {name: [] for name in names}
        for _ in range(FLAGS.rounds):
            for name in names:  # alternate models so that machine noise hits all alike
                serve = models[name][1]
                start = time.perf_counter()
                for batch in batches:
                    serve(batch)
                passes[name].append(time.perf_counter() - start)
        latencies = {name: [] for name in names}
        for single in singles:
            for name in names:
                serve = models[name][1]
                start = time.perf_counter()
                serve(single)
                latencies[name].append(1000 * (time.perf_counter() - start))

    base = names[0]
    config0, _, _, num_items = models[base]
    seq_len = config0.data.seq_len - 1

    def ideal_flops(name):
        config = models[name][0]
        return inference_flops(
            config.model, config.policy.policy, seq_len, num_items, blocks[name].mean()
        )

    print(
        f"\nLoader {FLAGS.loader}: a signature that computes nothing takes"
        f" {np.median(floor_latencies):.2f} ms (p50) per request, part of every latency below."
    )
    print(
        f"{len(requests)} test users, t - 1 = {seq_len}, {num_items} items; {FLAGS.rounds} rounds, {len(singles)} single requests"
    )
    print(f"{'model':<18}{'blocks':>8}{'batch-256 seq/s':>17}{'speedup':>9}{'ideal':>7}{'ratio':>7}"
          f"{'p50 ms':>9}{'p99 ms':>9}{'speedup':>9}{'ideal':>7}{'ratio':>7}")  # fmt: skip
    base_pass, base_p50 = statistics.median(passes[base]), np.percentile(latencies[base], 50)
    for name in names:
        median_pass = statistics.median(passes[name])
        p50, p99 = np.percentile(latencies[name], [50, 99])
        ideal = ideal_flops(base) / ideal_flops(name)
        batch_speedup, single_speedup = base_pass / median_pass, base_p50 / p50
        print(f"{name:<18}{blocks[name].mean():>8.2f}{len(requests) / median_pass:>17.0f}{batch_speedup:>8.2f}x"
              f"{ideal:>6.2f}x{batch_speedup / ideal:>7.2f}{p50:>9.2f}{p99:>9.2f}{single_speedup:>8.2f}x"
              f"{ideal:>6.2f}x{single_speedup / ideal:>7.2f}")  # fmt: skip


if __name__ == "__main__":
    app.run(main)
