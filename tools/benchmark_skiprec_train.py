"""The cost of a SkipRec-RL training step against a backbone step, with and without real skipping.

Builds, from one flagfile (a SkipRec-RL one), three models on the same data: its backbone alone,
SkipRec-RL computing Eq. 5 masked (every block on every user, the authors' way and the default),
and SkipRec-RL with --skip_in_training (a block on the users that retain it only). All run
without XLA (real skipping cannot be compiled by it) unless --backbone_xla also times the
backbone compiled. After --warmup_steps each, the models take turns: each round times
--steps_per_round steps of each, on the same batches; the script prints the median time per step
of each model, the ratios to the backbone step (medians over the rounds of the ratio within a
round), the share of blocks the sampled and greedy policies used, and each model's first step
(tracing, and XLA's compilation).

A fresh policy retains each block with probability about 0.5 in its samples; the greedy policy's
usage is whatever the fresh weights give, so the figures are printed beside the times.

Example (ML-1M, t = 20, 32 blocks, d = 64, one thread):
  python tools/benchmark_skiprec_train.py --flagfile=flags/ml1m_rl.cfg --threads=1 --rounds=7
"""

import dataclasses
import statistics
import sys
import time

import tensorflow as tf
from absl import app, flags

from skiprec_tf import main as skiprec_main

flags.DEFINE_integer(
    "warmup_steps", 3, "Untimed steps of each model, the first one tracing.", lower_bound=1
)
flags.DEFINE_integer("steps_per_round", 10, "Steps of each model per round.", lower_bound=1)
flags.DEFINE_integer("rounds", 5, "Rounds of alternation.", lower_bound=1)
flags.DEFINE_integer(
    "threads", 0, "Intra-op and inter-op threads of TensorFlow; 0 lets it choose.", lower_bound=0
)
flags.DEFINE_bool("backbone_xla", False, "Also time the backbone compiled with XLA.")
FLAGS = flags.FLAGS


def _variants(config):
    """(name, config) of the models timed, all without XLA but the optional compiled backbone."""
    graph = dataclasses.replace(config.train, jit_compile=False)
    policy = dataclasses.replace(config.policy, warmup_epochs=0, curriculum_epochs=0)
    backbone = dataclasses.replace(
        config,
        model=dataclasses.replace(config.model, model=config.model.backbone),
        policy=dataclasses.replace(policy, skip_in_training=False),
        train=graph,
    )
    variants = [("backbone", backbone)]
    if FLAGS.backbone_xla:
        xla = dataclasses.replace(config.train, jit_compile=True)
        variants.append(("backbone, XLA", dataclasses.replace(backbone, train=xla)))
    for name, skip in (("SkipRec-RL masked", False), ("SkipRec-RL skipping", True)):
        skiprec = dataclasses.replace(
            config,
            policy=dataclasses.replace(policy, skip_in_training=skip),
            train=graph,
        )
        variants.append((name, skiprec))
    return variants


def main(argv):
    del argv
    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)  # before any op runs
    tf.config.threading.set_inter_op_parallelism_threads(FLAGS.threads)
    from skiprec_tf.data.pipeline import training_batches
    from skiprec_tf.data.sources import load_data
    from skiprec_tf.training.trainer import build_model

    config = skiprec_main.config_from_flags()
    if config.model.model != "skiprec_rl":
        raise app.UsageError(f"--model must be skiprec_rl, got {config.model.model}")
    data = load_data(config.data)
    models = []
    for name, variant in _variants(config):
        model = build_model(variant, data.num_items)
        batches = iter(training_batches(data.train, config.train.batch_size, 0, 0, 1000))
        model.make_train_function()  # as fit does: tf.function of train_step, with XLA if set
        models.append((name, model, model.train_function, batches))
    tracing = {}
    for name, model, step, batches in models:
        start = time.perf_counter()
        float(step(batches)["loss"])
        tracing[name] = time.perf_counter() - start
        for _ in range(FLAGS.warmup_steps - 1):
            step(batches)
    seconds = {name: [] for name, *_ in models}
    usage = {"sampled": [], "greedy": []}
    for _ in range(FLAGS.rounds):
        for name, model, step, batches in models:
            start = time.perf_counter()
            for _ in range(FLAGS.steps_per_round):
                logs = step(batches)
            float(logs["loss"])  # wait for the last step
            seconds[name].append((time.perf_counter() - start) / FLAGS.steps_per_round)
            if name == "SkipRec-RL skipping":
                inputs, _ = next(batches)
                logits = model.policy(inputs)
                usage["sampled"].append(
                    float(tf.reduce_mean(model.sampled_actions(logits, inputs)))
                )
                usage["greedy"].append(float(tf.reduce_mean(model.greedy_actions(logits, inputs))))
    m = config.model
    print(
        f"\nconfig: data={config.data.name} backbone={m.backbone} d={m.embedding_dim} "
        f"blocks={m.num_blocks} t={config.data.seq_len} batch={config.train.batch_size} "
        f"threads={FLAGS.threads or 'TF default'}, {FLAGS.rounds} rounds of "
        f"{FLAGS.steps_per_round} steps each"
    )
    base = seconds["backbone"]
    for name, times in seconds.items():
        ratio = statistics.median(t / b for t, b in zip(times, base))
        print(
            f"{name:>22}: {statistics.median(times) * 1000:8.1f} ms/step (median), "
            f"{ratio:.2f}x the backbone step; first step (tracing) {tracing[name]:.1f} s"
        )
    print(
        f"blocks used by the policy at the timed steps: sampled "
        f"{statistics.mean(usage['sampled']):.2f}, greedy {statistics.mean(usage['greedy']):.2f}"
    )


if __name__ == "__main__":
    sys.exit(app.run(main))
