"""Start-up: the seconds from the command to the end of the first training step, new and resumed.

Runs `python -m skiprec_tf.main <flags> <variant>` for every variant (flags separated by `;`), in
turns, --repeats times, each in a fresh run directory; then resumes each such run once more
with `--resume --epochs=<one more>`, which restores the checkpoint and traces the step again.
A run is stopped as soon as its log says `First training step done` (`progress.ProgressLogger`);
the script prints each variant's median seconds to that line, for new runs and resumes.

Example (the ML20 flagfile on the synthetic data, with and without XLA):
  python tools/benchmark_startup.py --flags="--flagfile=flags/ml20_rl.cfg --data_format=synthetic" \
      --variants="--jit_compile=true;--jit_compile=false" --repeats=3
"""

import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app, flags

flags.DEFINE_string("flags", "", "Flags of every run (e.g. a flagfile).")
flags.DEFINE_string(
    "variants", "", "Variants compared, each flags separated by spaces; `;` between."
)
flags.DEFINE_integer("repeats", 3, "Runs of each variant.", lower_bound=1)
flags.DEFINE_integer("timeout", 900, "Seconds before a run counts as failed.", lower_bound=1)
FLAGS = flags.FLAGS

FIRST_STEP = "First training step done"


def seconds_to_first_step(arguments: list) -> float:
    """Starts `python -m skiprec_tf.main` with `arguments`, returns the seconds until its log says
    the first training step is done, and stops it there."""
    command = [sys.executable, "-m", "skiprec_tf.main", *arguments]
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    tail = []
    try:
        for line in process.stderr:
            if FIRST_STEP in line:
                return time.perf_counter() - start
            tail = [*tail[-20:], line]
            if time.perf_counter() - start > FLAGS.timeout:
                break
        raise RuntimeError(f"no first step in {' '.join(command)}:\n{''.join(tail)}")
    finally:
        process.kill()
        process.wait()


def main(argv):
    del argv
    variants = [v.strip() for v in FLAGS.variants.split(";")]
    base = shlex.split(FLAGS.flags)
    new = {variant: [] for variant in variants}
    resumed = {variant: [] for variant in variants}
    with tempfile.TemporaryDirectory() as directory:
        for repeat in range(FLAGS.repeats):
            for index, variant in enumerate(variants):
                run_dir = os.path.join(directory, f"variant{index}_repeat{repeat}")
                arguments = [*base, *variant.split(), f"--run_dir={run_dir}"]
                new[variant].append(seconds_to_first_step(arguments))
                print(f"{variant or '(flags)'}: new run {new[variant][-1]:.1f} s", flush=True)
        for repeat in range(FLAGS.repeats):
            for index, variant in enumerate(variants):
                # The stopped run has a config and maybe no checkpoint: --resume starts it again
                # from its last checkpoint (or the start), restoring and tracing as a resume does.
                run_dir = os.path.join(directory, f"variant{index}_repeat{repeat}")
                arguments = [*variant.split(), "--resume", f"--run_dir={run_dir}"]
                resumed[variant].append(seconds_to_first_step(arguments))
                print(f"{variant or '(flags)'}: resume {resumed[variant][-1]:.1f} s", flush=True)
    print(f"\nflags: {FLAGS.flags}; {FLAGS.repeats} runs of each variant, in turns")
    for variant in variants:
        print(
            f"{variant or '(flags)'}: first training step {statistics.median(new[variant]):.1f} s "
            f"after the command (median), {statistics.median(resumed[variant]):.1f} s on --resume"
        )


if __name__ == "__main__":
    sys.exit(app.run(main))
