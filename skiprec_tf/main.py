"""Trains and evaluates NextItNet+ or SkipRec from flags or a flagfile; exports a run; recommends.

Example:
  python -m skiprec_tf.main --flagfile=flags/mlsmall_rl.cfg --run_dir=runs/mlsmall_rl
  tensorboard --logdir=runs
  python -m skiprec_tf.main --mode=export --run_dir=runs/mlsmall_rl --export_dir=exports
  python -m skiprec_tf.main --mode=recommend --export_dir=exports/ml-latest-small_skiprec_rl \
      --items=1,260,1196 --titles=../shared/data/ml-latest-small/movies.csv

This is the only module that reads flags: it turns them into a frozen `RunConfig` (whose fields'
flags `config_flags` defines, one per field).
"""

import dataclasses
import os
import shutil
import sys
import tempfile
import time

from absl import app, flags, logging

from skiprec_tf import config_flags, console
from skiprec_tf.config import RESUMABLE, RunConfig
from skiprec_tf.errors import ConfigError, SkipRecError
from skiprec_tf.training.xla_cache import RUN_XLA_CACHE, keep_compiled_programs

# Run
flags.DEFINE_enum(
    "mode", "train", ["train", "export", "recommend"], "Train a model, export a run, or recommend."
)
flags.DEFINE_string("run_dir", "", "Run directory; default runs/<data_name>_<model>_<time>.")
flags.DEFINE_bool(
    "resume",
    False,
    "Continue the run in --run_dir from its latest checkpoint, with its own settings (flags given "
    f"may change only --{', --'.join(sorted(RESUMABLE))}).",
)
flags.DEFINE_bool(
    "overwrite", False, "Replace the run in --run_dir (removed once every check has passed)."
)
flags.DEFINE_string(
    "xla_cache_dir",
    None,
    "With --jit_compile: where XLA keeps the programs it compiles, and loads them from instead of "
    "compiling again when a later run (a --resume, or a new run of the same model and shapes) "
    "builds the same; default <run_dir>/xla_cache; '' keeps none.",
)
# Data, Model, Policy (SkipRec), Training: one flag per field of the config dataclasses.
config_flags.define_config_flags()
flags.adopt_module_key_flags(config_flags)  # --helpshort lists them as this module's
# Export and recommend
flags.DEFINE_string(
    "export_dir", "", "SavedModel base directory (export), or a SavedModel to recommend from."
)
flags.DEFINE_string(
    "model_name", "", "Model directory under --export_dir; default <data_name>_<model>."
)
flags.DEFINE_integer("export_version", None, "Version directory; default one more than the newest.")
flags.DEFINE_integer(
    "top_k", 10, "Items recommended (the serving_default signature's k).", lower_bound=1
)
flags.DEFINE_bool(
    "exclude_history",
    False,
    "Never recommend an item of the request's history (default: rank every item, the paper's "
    "protocol). Export, and recommend mode from a --run_dir.",
)
flags.DEFINE_list("items", [], "Recommend mode: the history, raw item ids oldest first.")
flags.DEFINE_integer(
    "max_blocks",
    None,
    "Recommend mode: run at most this many blocks (the compute budget).",
    lower_bound=0,
)
flags.DEFINE_string(
    "titles", "", "Recommend mode: movies.csv, movies.dat (ML-1M) or u.item, for titles."
)

FLAGS = flags.FLAGS


def config_from_flags() -> RunConfig:
    """The frozen `RunConfig` of the parsed flags (raises `ConfigError` naming a bad flag); with
    --resume, that of the run in --run_dir with the flags given that a resumed run may change.
    A SkipRec config whose policy would never train is refused (--epochs may change on resume)."""
    config = _resumed_config() if FLAGS.resume else _new_config()
    config.check_policy_trains()
    return config


def _resumed_config() -> RunConfig:
    """The config of the run in --run_dir, with the flags given that a resume may change."""
    if not FLAGS.run_dir:
        raise ConfigError("--resume needs --run_dir, the run to continue")
    if FLAGS.overwrite:
        raise ConfigError("--resume continues the run in --run_dir, --overwrite replaces it")
    from skiprec_tf.training.run_dir import RunDir

    run = RunDir(FLAGS.run_dir)
    if not os.path.isdir(run.path) or not run.has_config():
        missing = "does not exist" if not os.path.isdir(run.path) else "has no config.json"
        raise ConfigError(f"--resume: {run.path} {missing}, there is no run to continue")
    return config_flags.resumed_config(run.read_config(), FLAGS, run_dir=FLAGS.run_dir)


def _new_config() -> RunConfig:
    """The config of the flags, in --run_dir or a new runs/<data_name>_<model>_<time>."""
    run_dir = FLAGS.run_dir or os.path.join(
        "runs", f"{FLAGS.data_name}_{FLAGS.model}_{time.strftime('%Y%m%d-%H%M%S')}"
    )
    return config_flags.config_from_flags(FLAGS, run_dir=run_dir, resume=False)


def run(config: RunConfig, overwrite: bool = False) -> dict:
    """Checks the run directory, loads the data, then trains and evaluates. Nothing of the run
    directory changes before the checks pass and the data load; with `overwrite`, the run it held
    is removed only then."""
    # Imported here so that `--help` and flag errors do not wait for TensorFlow.
    from skiprec_tf.data.sources import load_data, user_groups
    from skiprec_tf.training.distribute import is_chief, make_strategy
    from skiprec_tf.training.run_dir import RunDir
    from skiprec_tf.training.trainer import check_can_start, train_and_evaluate
    from skiprec_tf.training.two_stage import check_init_from

    # First: multi_worker's collective ops must be set up before any other TensorFlow op.
    strategy = make_strategy(config.train.strategy)
    if not is_chief(strategy):
        return run_worker(config, strategy)
    run_dir = RunDir(config.run_dir)
    check_can_start(run_dir, config, overwrite)
    if config.policy.init_from:
        check_init_from(config)
    run_dir.check_writable()
    data = load_data(config.data)
    if overwrite and (run_dir.holds_run() or run_dir.has_config()):
        run_dir.remove_run()
        logging.info("--overwrite: removed the run %s held", run_dir.path)
    run_dir.write_flags(config_flags.flagfile_text(config))
    return train_and_evaluate(config, data, user_groups(config.data), strategy)


def run_worker(config: RunConfig, strategy) -> dict:
    """A worker other than the chief (--strategy=multi_worker): it trains in step with the chief
    and writes its checkpoints and logs into a temporary directory, removed at the end; the
    chief writes the run. A resumed worker starts from the chief's last checkpoint (on a file
    system the workers share, as TensorFlow's multi-worker checkpoints assume)."""
    from skiprec_tf.data.sources import load_data
    from skiprec_tf.training.run_dir import RunDir
    from skiprec_tf.training.trainer import train_and_evaluate

    temporary = tempfile.mkdtemp(prefix="skiprec_worker_")
    try:
        if config.resume:
            chief, mine = RunDir(config.run_dir), RunDir(temporary)
            shutil.copy(chief.config_file, mine.config_file)
            if os.path.isdir(chief.last_checkpoints):
                shutil.copytree(chief.last_checkpoints, mine.last_checkpoints)
        data = load_data(config.data)
        worker = dataclasses.replace(config, run_dir=temporary)
        results = train_and_evaluate(worker, data, strategy=strategy)
        logging.info("This worker is done; the chief writes the run in %s", config.run_dir)
        return results
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def train(config: RunConfig | None = None) -> dict:
    """--mode=train: `run` of `config`, by default the flags'."""
    config = config or config_from_flags()
    _interrupted_run[0] = config.run_dir
    return run(config, FLAGS.overwrite)


def export_run() -> str:
    """--mode=export: the run in --run_dir as a SavedModel under --export_dir."""
    if not FLAGS.run_dir or not FLAGS.export_dir:
        raise ConfigError("--mode=export needs --run_dir (a trained run) and --export_dir")
    from skiprec_tf.serving.export import RecommenderServing, export_saved_model
    from skiprec_tf.training.run_dir import RunDir

    config, model, item_ids = RunDir(FLAGS.run_dir).load_model()
    serving = RecommenderServing(
        model,
        item_ids,
        config.data.input_length,
        FLAGS.top_k,
        exclude_history=FLAGS.exclude_history,
    )
    name = FLAGS.model_name or f"{config.data.name}_{config.model.model}"
    path = export_saved_model(serving, FLAGS.export_dir, name, FLAGS.export_version)
    print(f"Exported {FLAGS.run_dir} to {path}")
    return path


def recommend_items() -> None:
    """--mode=recommend: the top --top_k items after the history --items."""
    if not FLAGS.items or not (FLAGS.run_dir or FLAGS.export_dir):
        raise ConfigError("--mode=recommend needs --items and --run_dir or --export_dir")
    from skiprec_tf.serving import recommend

    items = list(config_flags.parse_list("items", FLAGS.items, int))
    recommender, source, excludes = recommend.load_recommender(
        FLAGS.run_dir, FLAGS.export_dir, FLAGS.max_blocks, FLAGS.exclude_history
    )
    titles = recommend.read_titles(FLAGS.titles) if FLAGS.titles else None
    ids, scores, blocks, latency, known = recommend.recommend(recommender, items, FLAGS.top_k)
    print(f"Model: {source}")
    print(recommend.describe_exclusion(excludes))
    print(
        recommend.format_recommendations(
            items, ids, scores, blocks, latency, titles, FLAGS.max_blocks
        )
    )
    if known == 0:
        print(
            "No item of --items is in the model's catalogue: these are the model's answer to an "
            "empty history (the same for everyone)."
        )


_interrupted_run = [None]  # the run directory that Ctrl-C reports, once the flags give it


def _interrupted_message() -> str:
    run_dir = _interrupted_run[0]
    if run_dir is None:
        return console.interrupted_message(None, None, False)
    from skiprec_tf.training.run_dir import RunDir

    run = RunDir(run_dir)
    position = run.last_position() if run.holds_run() else None
    return console.interrupted_message(run_dir, position, run.has_config())


def main(argv):
    if len(argv) > 1:
        print(
            f"error: unexpected arguments: {' '.join(argv[1:])} (flags start with --; "
            "pass --helpshort to see them)",
            file=sys.stderr,
        )
        sys.exit(1)
    if FLAGS.mode == "train":
        console.stop_on_interrupt(_interrupted_message)  # before TensorFlow starts its threads
    try:
        # A new run's settings are checked before TensorFlow loads: a bad one fails at once.
        config = config_from_flags() if FLAGS.mode == "train" and not FLAGS.resume else None
        if FLAGS.mode == "train" and FLAGS.xla_cache_dir != "":
            # Before TensorFlow reads XLA's flags, which it does once, at its first use.
            run_dir = config.run_dir if config else FLAGS.run_dir
            keep_compiled_programs(FLAGS.xla_cache_dir or RUN_XLA_CACHE.format(run_dir=run_dir))
        console.import_tensorflow_quietly(FLAGS.verbosity)
        if FLAGS.verbosity <= 0:
            logging.get_absl_handler().addFilter(console.is_own_record)
        if FLAGS.mode == "export":
            export_run()
        elif FLAGS.mode == "recommend":
            recommend_items()
        else:
            train(config)
    except SkipRecError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    app.run(main, flags_parser=config_flags.parse_flags)
