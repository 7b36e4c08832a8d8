"""The float32 ceiling of a NextItNet+ training step on this machine: its matrix products alone.

Run by `tools/benchmark_peers.py`; prints one JSON line: seq_per_s, ms_per_step, gflop, ...

A training step of N blocks (Eq. 1-2) at batch B, t - 1 input positions, d channels, kernel k and
V items multiplies, at every one of its 2 N causal convolutions, the gathered taps `[B (t-1), k d]`
by the kernel `[k d, d]` (forward), and for its gradients the output's gradient by the kernel's
transpose (the taps' gradient) and the taps' transpose by the output's gradient (the kernel's);
the output layer does the same with `[B (t-1), d] x [d, V + 1]`. RecBole's NextItNet multiplies
the same shapes (its convolutions are the same, plus a d x d final layer that is left out here).
Each distinct product is timed alone as a compiled TensorFlow function on `--threads` threads
(median of `--repeats`), and the step's ceiling is the sum over the step's products: no layer
norm, activation, gather, loss, optimizer or framework overhead. A step can only be slower;
throughput above this needs fewer FLOPs or a narrower float type, not better code.

  python tools/peers/matmul_ceiling.py --embedding_dim=64 --num_blocks=32 --num_items=3651
"""

import json
import sys
import time

from absl import app, flags

from skiprec_tf.evaluation.flops import training_step_products

flags.DEFINE_integer("num_items", None, "V: items are 1..V.", required=True)
flags.DEFINE_integer("embedding_dim", 64, "d.")
flags.DEFINE_integer("num_blocks", 32, "N.")
flags.DEFINE_integer("kernel_size", 3, "k: taps of each causal convolution.")
flags.DEFINE_integer("seq_len", 20, "t: the inputs are t - 1 items.")
flags.DEFINE_integer("batch_size", 256, "Sequences per step.")
flags.DEFINE_integer("threads", 1, "TF intra-op and inter-op threads; 0: TF's default.")
flags.DEFINE_integer("repeats", 7, "Timings of each product; the median counts.", lower_bound=1)
FLAGS = flags.FLAGS


def time_product(tf, m, k, n, transpose_a, transpose_b, repeats) -> float:
    """Median seconds of one `[m, k] x [k, n]` float32 product (operands stored transposed where
    TensorFlow's MatMul gradient reads them so)."""
    a = tf.random.normal([k, m] if transpose_a else [m, k])
    b = tf.random.normal([n, k] if transpose_b else [k, n])
    product = tf.function(
        lambda a, b: tf.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)
    )
    product(a, b)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        product(a, b)  # on the CPU an eager call returns when its result is computed
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main(argv):
    del argv
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)
    tf.config.threading.set_inter_op_parallelism_threads(FLAGS.threads)
    rows = FLAGS.batch_size * (FLAGS.seq_len - 1)
    products = training_step_products(
        rows, FLAGS.embedding_dim, FLAGS.kernel_size, FLAGS.num_blocks, FLAGS.num_items + 1
    )
    seconds = flops = 0.0
    for m, k, n, transpose_a, transpose_b, count in products:
        seconds += count * time_product(tf, m, k, n, transpose_a, transpose_b, FLAGS.repeats)
        flops += count * 2.0 * m * k * n
    result = {
        "side": "ceiling",
        "seq_per_s": FLAGS.batch_size / seconds,
        "ms_per_step": seconds * 1000,
        "gflop": flops / 1e9,
        "gflop_per_s": flops / seconds / 1e9,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(app.run(main))
