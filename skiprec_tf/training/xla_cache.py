"""XLA's persistent compilation cache: the programs XLA compiles for --jit_compile, kept on disk.

TensorFlow's XLA keeps each program it compiles in `--tf_xla_persistent_cache_directory`, keyed by
a fingerprint of the program, and loads it from there instead of compiling again whenever a later
process builds the same program: a resumed run, or a new run of the same model and shapes.
"""

import os

RUN_XLA_CACHE = os.path.join("{run_dir}", "xla_cache")  # the default: in the run directory
_FLAG = "--tf_xla_persistent_cache_directory"
NAME_ALIGNMENT = 10_000  # `align_function_names` rounds TensorFlow's naming counter up to this


def keep_compiled_programs(directory: str) -> str:
    """Makes XLA keep and reuse its compiled programs in `directory`; returns the directory used.

    XLA creates the directory at its first compilation, so a process that compiles nothing writes
    nothing. It reads its flags (the environment's `TF_XLA_FLAGS`) once per process, at its first
    use, so this must run before TensorFlow does anything; where `TF_XLA_FLAGS` already names a
    cache directory, that one is used and returned.
    """
    xla_flags = os.environ.get("TF_XLA_FLAGS", "")
    for flag in xla_flags.split():
        if flag.startswith(_FLAG + "="):
            return flag.split("=", 1)[1]
    os.environ["TF_XLA_FLAGS"] = f"{xla_flags} {_FLAG}={directory}".strip()
    return directory


def align_function_names() -> None:
    """Advances TensorFlow's naming counter to the next multiple of `NAME_ALIGNMENT`.

    A traced function's name ends in that counter (`__inference_one_step_on_data_2423`), the name
    enters XLA's cache key, and restoring a checkpoint advances the counter by a number of its
    own. Called after the restore (or where a new run would have done it), the training, validation
    and test steps of a resumed run get the names, and so the cache keys, of a new run's.
    """
    from tensorflow.python.framework import ops  # the counter has no public API

    while ops.uid() % NAME_ALIGNMENT:
        pass
