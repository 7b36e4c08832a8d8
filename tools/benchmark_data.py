"""Preprocessing at the paper's scale: wall time and peak memory on a MovieLens-20M-shaped file.

Generates a `ratings.csv` of ML-20M's shape (`skiprec_tf.data.fake_ratings`: by default its
20,000,263 rows, 138,493 users, 26,744 movies) in a temporary directory, then, in a fresh
process so that the generator's memory does not count, reads and preprocesses it exactly as a
run of `--protocol_flagfile` does (`load_sequence_data(..., cache_dir=None)`: read, filter to a
fixed point, re-index, order by time, cut, split) and makes one pass of the tf.data training
pipeline over the training split. Prints the generation time (not part of the preprocessing
time), the preprocessing wall time, the measuring process's peak resident memory (`ru_maxrss`,
which includes TensorFlow and the other imports a run has; the resident size after the imports
is printed too) and the pipeline's sequences per second.

Example (the figures of docs/results.md, "Preprocessing at the paper's scale"):
  python tools/benchmark_data.py
  python tools/benchmark_data.py --data_path=data/ml-20m/ratings.csv   # the real file instead
"""

import pathlib
import resource
import subprocess
import sys
import tempfile
import time

from absl import app, flags

# Data
flags.DEFINE_integer("rows", 20_000_263, "Ratings to generate (ML-20M: 20,000,263).")
flags.DEFINE_integer("users", 138_493, "Users to generate (ML-20M: 138,493).")
flags.DEFINE_integer("items", 26_744, "Movies to generate (ML-20M: 26,744).")
flags.DEFINE_integer("seed", 0, "Seed of the generator.")
flags.DEFINE_string(
    "keep_dir", None, "Write the generated ratings.csv here and keep it (default: a temp dir)."
)
flags.DEFINE_string(
    "data_path", None, "Measure this ratings.csv in this process instead of generating one."
)
# Protocol
flags.DEFINE_string(
    "protocol_flagfile",
    str(pathlib.Path(__file__).resolve().parents[1] / "flags" / "ml20_plus.cfg"),
    "The flagfile whose data protocol (filters, t, cut, split) and batch size are used.",
)
FLAGS = flags.FLAGS


def main(argv):
    del argv
    if FLAGS.data_path:
        _measure(FLAGS.data_path)
        return
    with tempfile.TemporaryDirectory(prefix="benchmark_data_") as tmp:
        directory = pathlib.Path(FLAGS.keep_dir or tmp)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "ratings.csv"
        _generate(path)
        # A fresh process: its peak memory is the preprocessing's, not the generator's.
        command = [sys.executable, __file__, f"--data_path={path}"]
        command.append(f"--protocol_flagfile={FLAGS.protocol_flagfile}")
        sys.stdout.flush()
        subprocess.run(command, check=True)


def _generate(path):
    """Writes the ML-20M-shaped file and prints how long that took."""
    from skiprec_tf.data import fake_ratings

    start = time.perf_counter()
    ratings = fake_ratings.generate_ratings(FLAGS.rows, FLAGS.users, FLAGS.items, FLAGS.seed)
    drawn = time.perf_counter()
    fake_ratings.write_ratings_csv(path, ratings)
    end = time.perf_counter()
    print(
        f"generation: {end - start:.1f} s ({drawn - start:.1f} s drawing, {end - drawn:.1f} s "
        f"writing) of {FLAGS.rows} rows, {FLAGS.users} users, {FLAGS.items} items, "
        f"{path.stat().st_size / 2**20:.0f} MiB (not part of the preprocessing time)"
    )


def _measure(path):
    """Preprocesses `path` as a run does, then makes one training pass; prints the figures."""
    import tensorflow as tf

    from skiprec_tf import config_flags
    from skiprec_tf.data.loading import load_sequence_data
    from skiprec_tf.data.pipeline import training_batches

    protocol_flags = flags.FlagValues()
    config_flags.define_config_flags(protocol_flags)
    protocol_flags(["protocol", f"--flagfile={FLAGS.protocol_flagfile}"])
    config = config_flags.config_from_flags(protocol_flags)
    protocol, batch_size = config.data.protocol, config.train.batch_size
    after_imports = _peak_rss_mib()

    start = time.perf_counter()
    data = load_sequence_data(path, "movielens_csv", cache_dir=None, **protocol)
    seconds = time.perf_counter() - start
    peak = _peak_rss_mib()
    settings = ", ".join(f"{k}={v}" for k, v in protocol.items())
    print(f"protocol: {settings} (from {FLAGS.protocol_flagfile})")
    print(
        f"preprocessing: {seconds:.1f} s wall: {data.num_interactions} interactions kept, "
        f"{data.num_items} items, {data.num_sequences} sequences ({len(data.train)} train, "
        f"{len(data.valid)} valid, {len(data.test)} test)"
    )
    print(
        f"peak memory: {peak:.0f} MiB resident (ru_maxrss of the preprocessing process, imports "
        f"included; {after_imports:.0f} MiB after the imports)"
    )

    start = time.perf_counter()
    sequences = 0
    for inputs, _ in training_batches(data.train, batch_size, protocol["seed"], 0, 1):
        sequences += int(tf.shape(inputs)[0])
    seconds = time.perf_counter() - start
    print(
        f"tf.data training pass: {sequences} sequences in {seconds:.1f} s: "
        f"{sequences / seconds:.0f} sequences/s (batch {batch_size}); "
        f"peak memory then {_peak_rss_mib():.0f} MiB"
    )


def _peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


if __name__ == "__main__":
    app.run(main)
