"""One timed training run of the project's NextItNet+ or SASRec+ in this (fresh) process.

Run by `tools/benchmark_peers.py`; prints one JSON line: seq_per_s, peak_rss_mib, steps, ...

Builds the model with `skiprec_tf.training.trainer.build_model` and runs `model.fit` on
`skiprec_tf.data.pipeline.training_batches` as `tools/benchmark_train.py` does, over the
`[n, t]` int sequences of `--sequences` (0 = padding). The first `--warmup_steps` steps (tracing,
XLA compilation) are not timed; a batch callback times the `--steps` after them.

  python tools/peers/project_train.py --sequences=/tmp/seqs.npy --num_items=3651 \
      --model=nextitnet_plus --embedding_dim=64 --num_blocks=32 --steps=20
"""

import json
import resource
import sys
import time

from absl import app, flags

flags.DEFINE_string("sequences", None, ".npy of [n, t] item ids (0 = padding).", required=True)
flags.DEFINE_integer("num_items", None, "V: items are 1..V.", required=True)
flags.DEFINE_enum("model", "nextitnet_plus", ["nextitnet_plus", "sasrec_plus"], "Backbone.")
flags.DEFINE_integer("embedding_dim", 64, "d.")
flags.DEFINE_integer("num_blocks", 32, "N.")
flags.DEFINE_integer("num_heads", 2, "SASRec+'s attention heads.")
flags.DEFINE_integer("batch_size", 256, "Sequences per step.")
flags.DEFINE_float("learning_rate", 1e-3, "Adam's learning rate.")
flags.DEFINE_integer(
    "warmup_steps", 3, "Untimed first steps (tracing, compilation).", lower_bound=1
)
flags.DEFINE_integer("steps", 20, "Timed steps.", lower_bound=1)
flags.DEFINE_integer("threads", 1, "TF intra-op and inter-op threads; 0: TF's default.")
flags.DEFINE_bool("jit_compile", False, "Compile the train step with XLA.")
flags.DEFINE_integer("seed", 0, "Seed of the weights and the batch order.")
FLAGS = flags.FLAGS


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def batch_sizes(num_sequences: int, batch_size: int, num_steps: int) -> list:
    """The size of each of the first `num_steps` batches of `training_batches`: every epoch's
    batches are full but its last."""
    per_epoch = -(-num_sequences // batch_size)
    last = num_sequences - (per_epoch - 1) * batch_size
    return [batch_size if i % per_epoch < per_epoch - 1 else last for i in range(num_steps)]


def main(argv):
    del argv
    import numpy as np
    import tensorflow as tf

    # Before any TF op: the threads are fixed when the runtime starts.
    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)
    tf.config.threading.set_inter_op_parallelism_threads(FLAGS.threads)

    import keras

    from skiprec_tf.config import DataConfig, ModelConfig, RunConfig, TrainConfig
    from skiprec_tf.data.pipeline import steps_per_epoch, training_batches
    from skiprec_tf.training.trainer import build_model

    sequences = np.load(FLAGS.sequences).astype(np.int32)
    config = RunConfig(
        data=DataConfig(seq_len=sequences.shape[1]),
        model=ModelConfig(
            model=FLAGS.model,
            embedding_dim=FLAGS.embedding_dim,
            num_blocks=FLAGS.num_blocks,
            num_heads=FLAGS.num_heads,
            dropout=0.0,
            softmax="full",
        ),
        train=TrainConfig(
            batch_size=FLAGS.batch_size,
            learning_rate=FLAGS.learning_rate,
            jit_compile=FLAGS.jit_compile,
            seed=FLAGS.seed,
        ),
    )
    rss_base = peak_rss_mib()
    model = build_model(config, FLAGS.num_items)
    total = FLAGS.warmup_steps + FLAGS.steps
    epochs = -(-total // steps_per_epoch(len(sequences), FLAGS.batch_size))

    class StepTimer(keras.callbacks.Callback):
        """Times the steps after the warm-up; keeps the first step's loss."""

        def on_train_begin(self, logs=None):
            self.begin = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if batch == 0:
                self.first_loss = float(logs["loss"])
            if batch == FLAGS.warmup_steps - 1:
                self.start = time.perf_counter()
            if batch == total - 1:
                self.end = time.perf_counter()

    timer = StepTimer()
    model.fit(
        training_batches(sequences, FLAGS.batch_size, FLAGS.seed, 0, epochs),
        epochs=1,
        steps_per_epoch=total,
        callbacks=[timer],
        shuffle=False,
        verbose=0,
    )
    seconds = timer.end - timer.start
    timed = sum(batch_sizes(len(sequences), FLAGS.batch_size, total)[FLAGS.warmup_steps :])
    result = {
        "side": "project",
        "model": FLAGS.model,
        "seq_per_s": timed / seconds,
        "ms_per_step": seconds / FLAGS.steps * 1000,
        "peak_rss_mib": peak_rss_mib(),
        "base_rss_mib": rss_base,
        "steps": FLAGS.steps,
        "sequences": timed,
        "warmup_s": timer.start - timer.begin,
        "first_loss": timer.first_loss,
        "params": int(sum(np.prod(v.shape) for v in model.trainable_variables)),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(app.run(main))
