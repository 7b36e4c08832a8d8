"""Two-stage training (section 3.5): initialise SkipRec's backbone from a trained NextItNet+ or
SASRec+."""

import dataclasses
import os

import numpy as np
import tensorflow as tf
from absl import logging

from skiprec_tf.config import RunConfig, flag_name, flag_text
from skiprec_tf.errors import ConfigError
from skiprec_tf.models import SkipRec
from skiprec_tf.training.run_dir import RunDir, build_model


def resolve_checkpoint(init_from: str):
    """(checkpoint prefix, its `RunDir`) of `--init_from`: a run directory (its model's
    checkpoint, the best else the last) or a checkpoint prefix inside a run's `checkpoints/`."""
    if os.path.isdir(init_from):
        run = RunDir(init_from)
        path = run.model_checkpoint()
        if path is None:
            raise ConfigError(
                f"--init_from={init_from}: no checkpoint under {init_from}/checkpoints"
            )
        return path, run
    if not tf.io.gfile.exists(f"{init_from}.index"):
        raise ConfigError(f"--init_from={init_from}: neither a run directory nor a checkpoint")
    return init_from, RunDir.of_checkpoint(init_from)


def check_init_from(config: RunConfig):
    """(checkpoint prefix, its `RunDir`, its `RunConfig`) of `--init_from`, refused with a
    `ConfigError` naming the flags when its backbone or its data protocol differs from
    `config`'s: checked before the data load (the item vocabulary is checked after it)."""
    init_from = config.policy.init_from
    path, run = resolve_checkpoint(init_from)
    if not run.has_config():
        raise ConfigError(f"--init_from={init_from}: {run.config_file} is missing")
    source = run.read_config()
    mine, theirs = config.model.backbone_shape, source.model.backbone_shape
    if mine != theirs:
        differ = ", ".join(
            f"--{n}={theirs[n]} (here {mine[n]})"
            for n in mine
            if n in theirs and mine[n] != theirs[n]  # another backbone: --backbone is named
        )
        raise ConfigError(f"--init_from={init_from}: its backbone differs: {differ}")
    data_fields = ("format", *config.data.protocol, "synthetic_users", "synthetic_items")
    differ = [
        f"--{flag_name(field)}={flag_text(getattr(source.data, field.name))} "
        f"(here {flag_text(getattr(config.data, field.name))})"
        for field in dataclasses.fields(config.data)
        if field.name in data_fields
        and getattr(source.data, field.name) != getattr(config.data, field.name)
    ]
    if differ:
        raise ConfigError(
            f"--init_from={init_from}: it was trained on other data settings: {', '.join(differ)}"
        )
    return path, run, source


def load_backbone(model: SkipRec, config: RunConfig, item_ids: np.ndarray):
    """Copies the backbone of the run at `config.policy.init_from` into `model` (of `config`),
    and its item embedding into the policy network (as the authors do); any mismatch is a
    `ConfigError` (`check_init_from`, then the item vocabulary)."""
    init_from = config.policy.init_from
    path, run, source_config = check_init_from(config)
    source_items = run.read_item_ids()
    if not np.array_equal(source_items, item_ids):
        raise ConfigError(
            f"--init_from={init_from}: its item vocabulary ({len(source_items) - 1} items) is not "
            f"this data set's ({len(item_ids) - 1} items); train both on the same data and options"
        )
    source = build_model(source_config, len(item_ids) - 1)
    try:
        tf.train.Checkpoint(model=source).restore(
            path
        ).expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError) as error:
        raise ConfigError(f"--init_from={init_from}: {path} does not hold its run's model: {error}")
    for target, origin in zip(model.backbone_layers, source.backbone_layers):
        target.set_weights(origin.get_weights())
    policy_embedding = getattr(model.policy, "item_embedding", None)
    if (
        policy_embedding is not None
        and policy_embedding.embeddings.shape == source.item_embedding.embeddings.shape
    ):
        policy_embedding.embeddings.assign(source.item_embedding.embeddings)
    logging.info("Initialised the backbone from %s", path)
