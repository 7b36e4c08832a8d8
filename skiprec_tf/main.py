"""Trains and evaluates NextItNet+ or SkipRec from flags or a flagfile; exports a run; recommends.

Example:
  python -m skiprec_tf.main --flagfile=flags/mlsmall_rl.cfg --run_dir=runs/mlsmall_rl
  tensorboard --logdir=runs
  python -m skiprec_tf.main --mode=export --run_dir=runs/mlsmall_rl --export_dir=exports
  python -m skiprec_tf.main --mode=recommend --export_dir=exports/ml-latest-small_skiprec_rl \
      --items=1,260,1196 --titles=../shared/data/ml-latest-small/movies.csv

This is the only module that defines or reads flags: it turns them into a frozen `RunConfig`.
"""

import logging as logging_module
import os
import sys
import time

from absl import app, flags, logging

from skiprec_tf.config import (
    CUTS,
    DATA_FORMATS,
    MODELS,
    POLICIES,
    SOFTMAXES,
    DataConfig,
    ModelConfig,
    PolicyConfig,
    RunConfig,
    TrainConfig,
)
from skiprec_tf.errors import ConfigError, SkipRecError

# Run
flags.DEFINE_enum(
    "mode", "train", ["train", "export", "recommend"], "Train a model, export a run, or recommend."
)
flags.DEFINE_string("run_dir", "", "Run directory; default runs/<data_name>_<model>_<time>.")
flags.DEFINE_bool("resume", False, "Continue the run in --run_dir from its latest checkpoint.")
# Data
flags.DEFINE_string("data_name", "synthetic", "Name of the data set in tables and run directories.")
flags.DEFINE_enum("data_format", "synthetic", DATA_FORMATS, "Format of --data_path.")
flags.DEFINE_string("data_path", "", "Interaction file (not needed for the synthetic data).")
flags.DEFINE_integer("min_user_items", 10, "Remove users with fewer items.")
flags.DEFINE_integer("min_item_users", 5, "Remove items with fewer users.")
flags.DEFINE_integer("seq_len", 20, "t: length of every sequence.")
flags.DEFINE_enum(
    "cut", "subsequences", CUTS, "Sub-sequences of length t, or the latest t items per user."
)
flags.DEFINE_list(
    "split", ["0.8", "0.05", "0.15"], "Train, validation and test fractions of the sequences."
)
flags.DEFINE_integer("split_seed", 0, "Seed of the sequence split and of the synthetic generator.")
flags.DEFINE_string(
    "cache_dir",
    os.path.join(os.path.expanduser("~"), ".cache", "skiprec_tf"),
    "Cache of preprocessed data sets; empty disables it.",
)
flags.DEFINE_integer("synthetic_users", 4000, "Users of the synthetic data set.")
flags.DEFINE_integer("synthetic_items", 400, "Items of the synthetic data set.")
# Model
flags.DEFINE_enum(
    "model", "nextitnet_plus", MODELS, "NextItNet+, or SkipRec trained by Gumbel or RL."
)
flags.DEFINE_integer("embedding_dim", 256, "d: item embedding and channel size.")
flags.DEFINE_integer("num_blocks", 32, "N: residual blocks of the backbone.")
flags.DEFINE_list(
    "block_dilations",
    ["1", "4"],
    "Dilation r of consecutive blocks (convs use r, 2r), repeated to N.",
)
flags.DEFINE_integer("kernel_size", 3, "Width of the causal convolutions.")
flags.DEFINE_bool(
    "rezero", True, "NextItNet+ (lambda initialised to 0); false gives NextItNet (lambda = 1)."
)
flags.DEFINE_enum(
    "softmax", "full", SOFTMAXES, "Full softmax, or sampled softmax for large catalogues."
)
flags.DEFINE_integer("num_sampled", 1000, "Negatives of the sampled softmax.")
# Policy (SkipRec)
flags.DEFINE_enum("policy", "cnn", POLICIES, "Policy network: NextItNet (paper), GRU, or random.")
flags.DEFINE_float("temperature", 10.0, "tau of the Gumbel-softmax (Eq. 7).")
flags.DEFINE_float("gamma", 1.0, "Penalty of a wrong recommendation in the reward (Eq. 8).")
flags.DEFINE_float("beta", 1.0, "Weight of the RL loss (Eq. 10).")
flags.DEFINE_integer("reward_top_k", 5, "A recommendation is correct if the item is in the top k.")
flags.DEFINE_integer("warmup_epochs", 0, "First epochs with every block and no policy (rl_iter).")
flags.DEFINE_integer("curriculum_epochs", 0, "Epochs over which the policy takes over the blocks.")
flags.DEFINE_float(
    "target_usage", None, "Optional fraction of blocks to aim for (not in the paper)."
)
flags.DEFINE_float("usage_weight", 1.0, "Weight of the (usage - target_usage)^2 penalty.")
flags.DEFINE_string(
    "init_from", "", "Run dir or checkpoint of a NextItNet+ run: two-stage training."
)
# Training
flags.DEFINE_integer("batch_size", 256, "Sequences per training step.")
flags.DEFINE_integer("eval_batch_size", 512, "Sequences per evaluation step.")
flags.DEFINE_float("learning_rate", 1e-3, "Adam learning rate.")
flags.DEFINE_integer("epochs", 20, "Training epochs.")
flags.DEFINE_integer("seed", 0, "Seed of initialisation and data order.")
flags.DEFINE_bool("jit_compile", False, "Compile the train and test steps with XLA.")

# Export and recommend
flags.DEFINE_string(
    "export_dir", "", "SavedModel base directory (export), or a SavedModel to recommend from."
)
flags.DEFINE_string(
    "model_name", "", "Model directory under --export_dir; default <data_name>_<model>."
)
flags.DEFINE_integer("export_version", None, "Version directory; default one more than the newest.")
flags.DEFINE_integer("top_k", 10, "Items recommended (the serving_default signature's k).")
flags.DEFINE_list("items", [], "Recommend mode: the history, raw item ids oldest first.")
flags.DEFINE_string("titles", "", "Recommend mode: movies.csv or u.item, for titles.")

FLAGS = flags.FLAGS


def config_from_flags() -> RunConfig:
    """The frozen `RunConfig` of the parsed flags (raises `ConfigError` naming a bad flag)."""
    data = DataConfig(
        name=FLAGS.data_name,
        format=FLAGS.data_format,
        path=FLAGS.data_path,
        min_user_items=FLAGS.min_user_items,
        min_item_users=FLAGS.min_item_users,
        seq_len=FLAGS.seq_len,
        cut=FLAGS.cut,
        fractions=_floats("split", FLAGS.split),
        seed=FLAGS.split_seed,
        cache_dir=FLAGS.cache_dir or None,
        synthetic_users=FLAGS.synthetic_users,
        synthetic_items=FLAGS.synthetic_items,
    )
    model = ModelConfig(
        model=FLAGS.model,
        embedding_dim=FLAGS.embedding_dim,
        num_blocks=FLAGS.num_blocks,
        block_dilations=_ints("block_dilations", FLAGS.block_dilations),
        kernel_size=FLAGS.kernel_size,
        rezero=FLAGS.rezero,
        softmax=FLAGS.softmax,
        num_sampled=FLAGS.num_sampled,
    )
    policy = PolicyConfig(
        policy=FLAGS.policy,
        temperature=FLAGS.temperature,
        gamma=FLAGS.gamma,
        beta=FLAGS.beta,
        reward_top_k=FLAGS.reward_top_k,
        warmup_epochs=FLAGS.warmup_epochs,
        curriculum_epochs=FLAGS.curriculum_epochs,
        target_usage=FLAGS.target_usage,
        usage_weight=FLAGS.usage_weight,
        init_from=FLAGS.init_from,
    )
    train = TrainConfig(
        batch_size=FLAGS.batch_size,
        eval_batch_size=FLAGS.eval_batch_size,
        learning_rate=FLAGS.learning_rate,
        epochs=FLAGS.epochs,
        seed=FLAGS.seed,
        jit_compile=FLAGS.jit_compile,
    )
    run_dir = FLAGS.run_dir or os.path.join(
        "runs", f"{FLAGS.data_name}_{FLAGS.model}_{time.strftime('%Y%m%d-%H%M%S')}"
    )
    return RunConfig(
        data=data, model=model, policy=policy, train=train, run_dir=run_dir, resume=FLAGS.resume
    )


def _floats(flag: str, values) -> tuple:
    return _numbers(flag, values, float)


def _ints(flag: str, values) -> tuple:
    return _numbers(flag, values, int)


def _numbers(flag: str, values, kind) -> tuple:
    try:
        return tuple(kind(v) for v in values)
    except ValueError:
        raise ConfigError(
            f"--{flag}={','.join(values)} is not a list of {kind.__name__}s"
        ) from None


def run(config: RunConfig, flags_text: str = "") -> dict:
    """Loads the data, then trains and evaluates; the run directory is made only if data loads."""
    # Imported here so that `--help` and flag errors do not wait for TensorFlow.
    from skiprec_tf.data.sources import load_data, user_groups
    from skiprec_tf.trainer import train_and_evaluate

    data = load_data(config.data)
    os.makedirs(config.run_dir, exist_ok=True)
    with open(os.path.join(config.run_dir, "flags.cfg"), "w") as f:
        f.write(flags_text)
    return train_and_evaluate(config, data, user_groups(config.data))


def export_run() -> str:
    """--mode=export: the run in --run_dir as a SavedModel under --export_dir."""
    if not FLAGS.run_dir or not FLAGS.export_dir:
        raise ConfigError("--mode=export needs --run_dir (a trained run) and --export_dir")
    from skiprec_tf.runs import load_run
    from skiprec_tf.serving.export import RecommenderServing, export_saved_model

    config, model, item_ids = load_run(FLAGS.run_dir)
    serving = RecommenderServing(model, item_ids, config.data.seq_len - 1, FLAGS.top_k)
    name = FLAGS.model_name or f"{config.data.name}_{config.model.model}"
    path = export_saved_model(serving, FLAGS.export_dir, name, FLAGS.export_version)
    print(f"Exported {FLAGS.run_dir} to {path}")
    return path


def recommend_items() -> None:
    """--mode=recommend: the top --top_k items after the history --items."""
    if not FLAGS.items or not (FLAGS.run_dir or FLAGS.export_dir):
        raise ConfigError("--mode=recommend needs --items and --run_dir or --export_dir")
    from skiprec_tf.serving import recommend

    items = list(_ints("items", FLAGS.items))
    recommender, source = recommend.load_recommender(FLAGS.run_dir, FLAGS.export_dir)
    titles = recommend.read_titles(FLAGS.titles) if FLAGS.titles else None
    ids, scores, blocks, latency = recommend.recommend(recommender, items, FLAGS.top_k)
    print(f"Model: {source}")
    print(recommend.format_recommendations(items, ids, scores, blocks, latency, titles))


def _drop_tensorflow_info(record) -> bool:
    return record.levelno > logging_module.INFO or "tensorflow" not in record.pathname


def main(argv):
    # TensorFlow's own INFO lines (one per checkpoint write) would drown the epoch lines.
    logging.get_absl_handler().addFilter(_drop_tensorflow_info)
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    try:
        if FLAGS.mode == "export":
            export_run()
        elif FLAGS.mode == "recommend":
            recommend_items()
        else:
            run(config_from_flags(), FLAGS.flags_into_string())
    except SkipRecError as error:
        logging.error("%s", error)
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    app.run(main)
