"""Latency and throughput of an export under concurrent clients, as TF Serving serves them.

Loads an exported SavedModel once, into one TF session as TF Serving's model server does
(`--loader=session`, each request one `Session::Run` of `serving_default`) or with
`tf.saved_model.load` (`--loader=eager`), and shares it among 1, 4 and 8 client threads
(`--clients`). Each client sends `--warmup_requests` untimed requests, then, all starting together,
`--requests` timed ones of `--batch_sizes` users (batch 1 by default; add 256 for throughput) drawn
from the export's warm-up histories. Per client count and batch size it prints the p50 and p99
latency of a request and the throughput: requests/s and sequences (users)/s over the timed part.

The clients are Python threads: the Python part of each request holds the GIL, the model's ops do
not. The model server has no GIL, so at small batches it reaches at least these throughputs.

Example:
  python -m skiprec_tf.main --mode=export --run_dir=runs/mlsmall_rl --export_dir=/tmp/export
  python tools/benchmark_concurrency.py --saved_model=/tmp/export/ml-latest-small_skiprec_rl/1
  python tools/benchmark_concurrency.py --saved_model=/tmp/export/ml-latest-small_skiprec_rl/1 \
      --clients=1,2,4,8,16 --batch_sizes=1,256 --requests=500
"""

import concurrent.futures
import threading
import time

import numpy as np
import tensorflow as tf
from absl import app, flags

from skiprec_tf.serving.session import SessionServable
from skiprec_tf.serving.warmup import read_warmup_requests

flags.DEFINE_string("saved_model", None, "A version directory written by --mode=export.")
flags.DEFINE_list("clients", ["1", "4", "8"], "Numbers of concurrent clients (threads) to time.")
flags.DEFINE_list("batch_sizes", ["1"], "Users per request, e.g. 1,256.")
flags.DEFINE_integer(
    "requests", 200, "Timed requests per client, per row of the table.", lower_bound=1
)
flags.DEFINE_integer("warmup_requests", 20, "Untimed requests per client first.", lower_bound=0)
flags.DEFINE_enum("loader", "session", ["session", "eager"], "How the SavedModel is loaded.")
flags.DEFINE_integer("inter_op_threads", 0, "As in benchmark_inference.py; 0: TF's default.")
flags.DEFINE_integer("intra_op_threads", 0, "As in benchmark_inference.py; 0: TF's default.")
flags.DEFINE_integer("seed", 0, "Seed of the request histories.")
flags.mark_flag_as_required("saved_model")
for _name in ("clients", "batch_sizes"):
    flags.register_validator(
        _name,
        lambda values: all(value.isdigit() and int(value) > 0 for value in values),
        message="a comma-separated list of integers >= 1",
    )
FLAGS = flags.FLAGS


def _load(path: str, loader: str):
    """`serving_default` of the export at `path`: a callable from an int64 batch to its
    outputs, safe to call from many threads at once."""
    if loader == "session":
        config = tf.compat.v1.ConfigProto(
            inter_op_parallelism_threads=FLAGS.inter_op_threads,
            intra_op_parallelism_threads=FLAGS.intra_op_threads,
        )
        return SessionServable(path, config).item_ids_callable()
    signature = tf.saved_model.load(path).signatures["serving_default"]
    return lambda batch: {
        name: value.numpy() for name, value in signature(item_ids=tf.constant(batch)).items()
    }


def _client_batches(history: np.ndarray, clients: int, batch_size: int, count: int, rng):
    """Per client, `count` int64 batches `[batch_size, len(history)]` of `history`'s items."""
    return [
        [rng.choice(history, size=(batch_size, len(history))) for _ in range(count)]
        for _ in range(clients)
    ]


def measure(serve, batches_per_client, warmup: int):
    """Runs one thread per entry of `batches_per_client`: its first `warmup` batches untimed, then
    (all threads starting together) the rest, timed. Returns the latencies (ms) of the timed
    requests of all clients and the seconds from the first timed request's start to the last's
    end."""
    clients = len(batches_per_client)
    ready = threading.Barrier(clients)

    def client(batches):
        try:
            for batch in batches[:warmup]:
                serve(batch)
            ready.wait()
        except BaseException:
            ready.abort()  # the other clients stop waiting
            raise
        latencies, start = [], time.perf_counter()
        for batch in batches[warmup:]:
            sent = time.perf_counter()
            serve(batch)
            latencies.append(1000 * (time.perf_counter() - sent))
        return latencies, start, time.perf_counter()

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(client, batches) for batches in batches_per_client]
    errors = [future.exception() for future in futures if future.exception()]
    if errors:  # the first cause, not the other clients' broken barrier
        raise next(
            (e for e in errors if not isinstance(e, threading.BrokenBarrierError)), errors[0]
        )
    latencies, starts, ends = zip(*(future.result() for future in futures))
    return np.concatenate(latencies), max(ends) - min(starts)


def main(argv):
    del argv
    tf.config.threading.set_inter_op_parallelism_threads(FLAGS.inter_op_threads)
    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.intra_op_threads)
    history = next(iter(read_warmup_requests(FLAGS.saved_model)))[1]["item_ids"][0]
    serve = _load(FLAGS.saved_model, FLAGS.loader)
    rng = np.random.default_rng(FLAGS.seed)
    clients_list = [int(value) for value in FLAGS.clients]
    batch_sizes = [int(value) for value in FLAGS.batch_sizes]
    for batch_size in batch_sizes:  # the runtime's one-off set-up, before any client
        serve(np.resize(history, (batch_size, len(history))))

    print(
        f"Loader {FLAGS.loader}, serving_default; threads: inter-op "
        f"{FLAGS.inter_op_threads or 'TF default'}, intra-op "
        f"{FLAGS.intra_op_threads or 'TF default'}; {FLAGS.requests} timed requests per client "
        f"after {FLAGS.warmup_requests} warm-up ones."
    )
    print(
        f"{'clients':>7}{'batch':>7}{'p50 ms':>10}{'p99 ms':>10}{'requests/s':>12}{'sequences/s':>13}"
    )
    for batch_size in batch_sizes:
        for clients in clients_list:
            count = FLAGS.warmup_requests + FLAGS.requests
            batches = _client_batches(history, clients, batch_size, count, rng)
            latencies, wall = measure(serve, batches, FLAGS.warmup_requests)
            p50, p99 = np.percentile(latencies, [50, 99])
            rate = len(latencies) / wall
            print(
                f"{clients:>7}{batch_size:>7}{p50:>10.2f}{p99:>10.2f}{rate:>12.1f}"
                f"{rate * batch_size:>13.1f}"
            )


if __name__ == "__main__":
    app.run(main)
