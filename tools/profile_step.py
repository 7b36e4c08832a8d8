"""Where a backbone's training step goes: its parts timed alone, in turns, beside the whole step.

Builds the backbone of a flagfile (NextItNet+ or SASRec+) as `skiprec_tf.main` does and times, as
compiled functions (graph mode, or XLA with the flagfile's --jit_compile) on the same batch:
  - step: the whole training step (`train_step`: forward, loss, gradients, Adam);
  - forward: the loss alone, no gradient;
  - gradients: the loss and its gradients of every weight, no update;
  - blocks: the N residual blocks forward and backward (a sum of E_N as the loss);
  - softmax: the output layer and the all-position cross-entropy over all V items, forward and
    backward, from a fixed E_N;
  - optimizer: one Adam update of every weight with given gradients;
  - input: the next batch of the tf.data pipeline.
Each round times --steps of each part; the script prints each part's median milliseconds and its
share of the whole step (the parts overlap nothing but may not sum to it: the step fuses and
schedules across them).

Example (ML-1M, t = 20, 32 blocks, d = 64, one thread; d = 256 with --embedding_dim=256):
  python tools/profile_step.py --flagfile=flags/ml1m_plus.cfg --threads=1
"""

import statistics
import sys
import time

import tensorflow as tf
from absl import app, flags

from skiprec_tf import main as skiprec_main

flags.DEFINE_integer("steps", 5, "Calls of each part per round.", lower_bound=1)
flags.DEFINE_integer("rounds", 5, "Rounds of alternation.", lower_bound=1)
flags.DEFINE_integer(
    "threads", 0, "Intra-op and inter-op threads of TensorFlow; 0 lets it choose.", lower_bound=0
)
FLAGS = flags.FLAGS


def _used(gradients):
    """A scalar of every gradient, so that none is pruned from the function's graph."""
    values = [
        g.values if isinstance(g, tf.IndexedSlices) else g for g in gradients if g is not None
    ]
    return tf.add_n([tf.reduce_sum(v) for v in values])


def _parts(model, batches, jit_compile):
    """`{part: a function of no argument that runs it once and waits for its result}`."""
    inputs, targets = next(batches)
    hidden = model.encode(inputs)
    block_weights = [w for block in model.residual_blocks for w in block.trainable_weights]
    output_weights = model.output_layer.trainable_weights
    compiled = tf.function(jit_compile=jit_compile)

    @compiled
    def blocks():
        with tf.GradientTape() as tape:
            output = model.embed(inputs, training=True)
            padding_mask = inputs == 0
            for block in model.residual_blocks:
                output = block(output, padding_mask=padding_mask, training=True)
            loss = tf.reduce_sum(output)
        return _used(tape.gradient(loss, block_weights))

    @compiled
    def softmax():
        with tf.GradientTape() as tape:
            tape.watch(hidden)
            loss = model.next_item_loss(hidden, inputs, targets)
        return _used(tape.gradient(loss, [hidden, *output_weights]))

    @compiled
    def forward():
        return model.compute_loss(inputs, targets)

    @compiled
    def backward():
        with tf.GradientTape() as tape:
            loss = model.compute_loss(inputs, targets)
        return _used(tape.gradient(loss, model.trainable_variables))

    gradients = [tf.zeros_like(v) for v in model.trainable_variables]

    @compiled
    def optimizer():
        model.optimizer.apply(gradients, model.trainable_variables)
        return tf.constant(0.0)

    model.make_train_function()
    step_batches = iter(tf.data.Dataset.from_tensors((inputs, targets)).repeat())
    return {
        "step": lambda: float(model.train_function(step_batches)["loss"]),
        "forward": lambda: forward().numpy(),
        "gradients": lambda: backward().numpy(),
        "blocks": lambda: blocks().numpy(),
        "softmax": lambda: softmax().numpy(),
        "optimizer": lambda: optimizer().numpy(),
        "input": lambda: next(batches)[0].numpy(),
    }


def main(argv):
    del argv
    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)  # before any op runs
    tf.config.threading.set_inter_op_parallelism_threads(FLAGS.threads)
    from skiprec_tf.data.pipeline import training_batches
    from skiprec_tf.data.sources import load_data
    from skiprec_tf.training.trainer import build_model

    config = skiprec_main.config_from_flags()
    if config.model.is_skiprec:
        raise app.UsageError(f"--model must be a backbone, got {config.model.model}")
    data = load_data(config.data)
    model = build_model(config, data.num_items)
    batches = iter(training_batches(data.train, config.train.batch_size, 0, 0, 1000))
    parts = _parts(model, batches, config.train.jit_compile)
    for run in parts.values():  # tracing, and compilation
        run()
    seconds = {name: [] for name in parts}
    for _ in range(FLAGS.rounds):
        for name, run in parts.items():
            start = time.perf_counter()
            for _ in range(FLAGS.steps):
                run()
            seconds[name].append((time.perf_counter() - start) / FLAGS.steps)
    m = config.model
    print(
        f"\nconfig: data={config.data.name} model={m.model} d={m.embedding_dim} "
        f"blocks={m.num_blocks} t={config.data.seq_len} V={data.num_items} "
        f"batch={config.train.batch_size} jit_compile={config.train.jit_compile} "
        f"threads={FLAGS.threads or 'TF default'}, {FLAGS.rounds} rounds of {FLAGS.steps}"
    )
    step = statistics.median(seconds["step"])
    for name, times in seconds.items():
        median = statistics.median(times)
        print(f"{name:>10}: {median * 1000:8.1f} ms (median), {median / step:6.1%} of the step")


if __name__ == "__main__":
    sys.exit(app.run(main))
