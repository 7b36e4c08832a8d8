"""Paired comparisons of finished runs on the same test split, with bootstrap 95% intervals.

Each argument is a model: a run directory, several run directories separated by commas (one per
training seed: each test sequence's metric is averaged over them), or either followed by
`:most_popular` or `:markov_chain` for a baseline those runs saved. Every model after the first
is compared with the first: the mean difference B - A of every metric over the test sequences,
its paired bootstrap 95% interval, and both relative to A.

Example:
  python tools/compare_runs.py runs/plus_seed0,runs/plus_seed1,runs/plus_seed2 \
      runs/rl_pre_seed0,runs/rl_pre_seed1,runs/rl_pre_seed2 runs/plus_seed0:markov_chain
"""

from absl import app, flags

from skiprec_tf.errors import SkipRecError
from skiprec_tf.evaluation.compare import compare_ranks, format_differences, load_ranks

flags.DEFINE_integer("samples", 10000, "Bootstrap resamplings of the test sequences.")
flags.DEFINE_integer("seed", 0, "Seed of the bootstrap.")
FLAGS = flags.FLAGS


def main(argv):
    models = argv[1:]
    if len(models) < 2:
        raise app.UsageError("give at least two models (run dirs, comma-separated seeds)")
    try:
        reference, split = load_ranks(models[0])
        for model in models[1:]:
            ranks, _ = load_ranks(model, split)
            differences = compare_ranks(reference, ranks, FLAGS.samples, FLAGS.seed)
            print(f"\n{len(reference)} x {len(ranks)} seeds, {len(reference[0])} test sequences")
            print(format_differences(models[0], model, differences))
    except SkipRecError as error:
        raise app.UsageError(str(error)) from None


if __name__ == "__main__":
    app.run(main)
