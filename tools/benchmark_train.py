"""Training throughput and peak memory of a configuration, to compare changes.

Builds the model and data of a flagfile exactly as `skiprec_tf.main` does, runs one warm-up epoch
(graph tracing), then times `--timed_epochs` epochs one by one and prints the median
sequences/second and seconds/step, and the process's peak resident memory.

--threads=N runs TensorFlow with N intra-op and N inter-op threads (0: TensorFlow's default, one
per core), e.g. --threads=1 to compare with other libraries on one thread each.

Example (the figure quoted in the closing notes: d = 64, 32 blocks, t = 20, batch 256):
  python tools/benchmark_train.py --flagfile=flags/mlsmall_plus.cfg \
      --data_path=../shared/data/ml-latest-small/ratings.csv --timed_epochs=5
"""

import resource
import statistics
import sys
import time

import keras
import tensorflow as tf
from absl import app, flags

from skiprec_tf import main as skiprec_main

flags.DEFINE_integer("timed_epochs", 3, "Epochs timed after the warm-up epoch.", lower_bound=1)
flags.DEFINE_integer(
    "threads", 0, "Intra-op and inter-op threads of TensorFlow; 0 lets it choose.", lower_bound=0
)
FLAGS = flags.FLAGS


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main(argv):
    del argv
    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)  # before any op runs
    tf.config.threading.set_inter_op_parallelism_threads(FLAGS.threads)
    from skiprec_tf.data.pipeline import steps_per_epoch, training_batches
    from skiprec_tf.data.sources import load_data
    from skiprec_tf.training.trainer import build_model

    config = skiprec_main.config_from_flags()
    data = load_data(config.data)
    rss_data = _peak_rss_mib()
    model = build_model(config, data.num_items)
    batch, epochs = config.train.batch_size, 1 + FLAGS.timed_epochs
    steps = steps_per_epoch(len(data.train), batch)
    timer = EpochTimer()
    model.fit(
        training_batches(data.train, batch, config.train.seed, 0, epochs),
        epochs=epochs,
        steps_per_epoch=steps,
        callbacks=[timer],
        shuffle=False,
        verbose=2,
    )
    timed = timer.seconds[1:]
    median = statistics.median(timed)
    m = config.model
    print(
        f"\nconfig: data={config.data.name} d={m.embedding_dim} blocks={m.num_blocks} "
        f"t={config.data.seq_len} batch={batch} softmax={m.softmax} jit_compile={config.train.jit_compile}"
        f" threads={FLAGS.threads or 'TF default'}"
    )
    print(f"warm-up epoch (tracing): {timer.seconds[0]:.1f} s")
    print(
        f"timed epochs: {', '.join(f'{s:.2f}' for s in timed)} s ({steps} steps, {len(data.train)} sequences each)"
    )
    print(
        f"throughput: {len(data.train) / median:.1f} sequences/s (median), {median / steps * 1000:.1f} ms/step"
    )
    print(
        f"peak memory: {_peak_rss_mib():.0f} MiB resident (after loading data: {rss_data:.0f} MiB)"
    )


if __name__ == "__main__":
    sys.exit(app.run(main))
