"""What a new model version costs before it serves well: loading, warm-up and the first requests.

Loads an exported SavedModel into a TF session as TF Serving's model server does, replays its
warm-up requests (`assets.extra/tf_serving_warmup_requests`) as the server does at load
(`--enable_model_warmup`, on by default) unless `--nowarmup`, then times the first batch-1 and
batch-256 requests and the median of the next `--requests` of each. Run it once with and once
without warm-up: each run is a fresh process, so neither inherits the other's set-up.

Example:
  python -m skiprec_tf.main --mode=export --run_dir=runs/mlsmall_rl --export_dir=/tmp/export
  python tools/benchmark_load.py --saved_model=/tmp/export/ml-latest-small_skiprec_rl/1
  python tools/benchmark_load.py --saved_model=/tmp/export/ml-latest-small_skiprec_rl/1 --nowarmup
"""

import statistics
import time

import numpy as np
import tensorflow as tf
from absl import app, flags

from skiprec_tf.serving.session import SessionServable
from skiprec_tf.serving.warmup import read_warmup_requests

flags.DEFINE_string("saved_model", None, "A version directory written by --mode=export.")
flags.DEFINE_bool("warmup", True, "Replay the warm-up requests after loading, as TF Serving does.")
flags.DEFINE_integer("requests", 20, "Requests timed after the first, per batch size.")
flags.DEFINE_integer("inter_op_threads", 0, "As in benchmark_inference.py; 0: TF's default.")
flags.mark_flag_as_required("saved_model")
FLAGS = flags.FLAGS


def _ms_since(start):
    return 1000 * (time.perf_counter() - start)


def main(argv):
    del argv
    requests = list(read_warmup_requests(FLAGS.saved_model))
    history = requests[0][1]["item_ids"][0]
    batches = {1: history[None, ::-1], 256: np.stack([np.roll(history, i) for i in range(256)])}

    start = time.perf_counter()
    config = tf.compat.v1.ConfigProto(inter_op_parallelism_threads=FLAGS.inter_op_threads)
    servable = SessionServable(FLAGS.saved_model, config)
    print(f"load: {_ms_since(start) / 1000:.2f} s")
    if FLAGS.warmup:
        start = time.perf_counter()
        for name, inputs in requests:
            servable.run(name, inputs)
        print(f"warm-up: {_ms_since(start) / 1000:.2f} s for {len(requests)} requests")
    for size, batch in batches.items():
        start = time.perf_counter()
        servable.run("serving_default", {"item_ids": batch})
        first = _ms_since(start)
        later = []
        for _ in range(FLAGS.requests):
            start = time.perf_counter()
            servable.run("serving_default", {"item_ids": batch})
            later.append(_ms_since(start))
        print(
            f"batch {size}: first request {first:.1f} ms, then median {statistics.median(later):.2f} ms"
        )


if __name__ == "__main__":
    app.run(main)
