"""A finished run directory back as its config, its trained model and its item ids."""

import os

import numpy as np
import tensorflow as tf

from skiprec_tf.config import RunConfig
from skiprec_tf.errors import ConfigError
from skiprec_tf.models import build_recommender


def load_run(run_dir: str):
    """(config, model with the best checkpoint's weights, raw id of every internal item id)."""
    config_path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(config_path):
        raise ConfigError(f"--run_dir={run_dir}: no config.json, not a run directory")
    with open(config_path) as f:
        config = RunConfig.from_json(f.read())
    item_ids = np.load(os.path.join(run_dir, "item_ids.npy"))
    path = tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints", "best"))
    path = path or tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints", "last"))
    if path is None:
        raise ConfigError(f"--run_dir={run_dir}: no checkpoint, the run has not finished an epoch")
    model = build_recommender(config.model, config.policy, len(item_ids) - 1, config.train.seed)
    model(tf.zeros([1, config.data.seq_len - 1], tf.int32))
    tf.train.Checkpoint(model=model).restore(path).expect_partial()
    return config, model, item_ids
