"""Two-stage training: --init_from copies a NextItNet+ run's backbone; mismatches are errors."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from skiprec_tf.config import DataConfig, ModelConfig, PolicyConfig, RunConfig, TrainConfig
from skiprec_tf.data.sources import load_data
from skiprec_tf.errors import ConfigError
from skiprec_tf.training.trainer import build_model, train_and_evaluate
from skiprec_tf.training.two_stage import check_init_from, load_backbone

DATA = DataConfig(synthetic_users=300, synthetic_items=40, seq_len=10)
BACKBONE = ModelConfig(embedding_dim=8, num_blocks=4)


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A NextItNet+ run directory (2 epochs) and its data."""
    run_dir = tmp_path_factory.mktemp("pretrained") / "run"
    data = load_data(DATA)
    config = RunConfig(
        data=DATA, model=BACKBONE, train=TrainConfig(batch_size=64, epochs=2), run_dir=str(run_dir)
    )
    train_and_evaluate(config, data)
    source = build_model(config, data.num_items)
    tf.train.Checkpoint(model=source).restore(
        tf.train.latest_checkpoint(str(run_dir / "checkpoints" / "best"))
    ).expect_partial()
    return str(run_dir), data, source


def _skiprec(data, run_dir, model=BACKBONE, data_config=DATA):
    """A SkipRec-RL on `model`'s backbone, and its `RunConfig` (--init_from=`run_dir`)."""
    config = RunConfig(
        data=data_config,
        model=dataclasses.replace(model, model="skiprec_rl"),
        policy=PolicyConfig(init_from=run_dir),
    )
    return build_model(config, data.num_items), config


def test_backbone_and_policy_embedding_equal_the_checkpoint(pretrained):
    run_dir, data, source = pretrained
    model, config = _skiprec(data, run_dir)
    load_backbone(model, config, data.item_ids)
    pairs = [
        (model.item_embedding, source.item_embedding),
        (model.output_layer, source.output_layer),
    ]
    pairs += list(zip(model.residual_blocks, source.residual_blocks))
    for mine, theirs in pairs:
        for a, b in zip(mine.get_weights(), theirs.get_weights()):
            np.testing.assert_array_equal(a, b)
    assert any(np.abs(b.rezero_lambda.numpy()) > 0 for b in source.residual_blocks), "trained"
    np.testing.assert_array_equal(
        model.policy.item_embedding.embeddings, source.item_embedding.embeddings
    )


@pytest.mark.parametrize(
    "model, message",
    [
        (ModelConfig(embedding_dim=16, num_blocks=4), "differs"),
        (ModelConfig(embedding_dim=8, num_blocks=6), "differs"),
        (
            ModelConfig(model="skiprec_rl", backbone="sasrec_plus", embedding_dim=8, num_blocks=4),
            r"--backbone=nextitnet_plus \(here sasrec_plus\)",
        ),
    ],
)
def test_mismatched_backbone_is_a_clear_error(pretrained, model, message):
    run_dir, data, _ = pretrained
    with pytest.raises(ConfigError, match=message):
        load_backbone(*_skiprec(data, run_dir, model), data.item_ids)


def test_other_vocabulary_is_a_clear_error(pretrained):
    run_dir, data, _ = pretrained
    item_ids = data.item_ids.copy()
    item_ids[1] += 1000
    with pytest.raises(ConfigError, match="vocabulary"):
        load_backbone(*_skiprec(data, run_dir), item_ids)


def test_not_a_run_is_a_clear_error(tmp_path, pretrained):
    _, data, _ = pretrained
    with pytest.raises(ConfigError, match="--init_from"):
        load_backbone(*_skiprec(data, str(tmp_path)), data.item_ids)


@pytest.mark.parametrize(
    "data_config, message",
    [
        (dataclasses.replace(DATA, seq_len=12), r"--seq_len=10 \(here 12\)"),
        (dataclasses.replace(DATA, synthetic_items=50), r"--synthetic_items=40 \(here 50\)"),
        (dataclasses.replace(DATA, fractions=(0.7, 0.1, 0.2)), r"--split=0.8,0.05,0.15"),
    ],
)
def test_a_run_on_other_data_settings_is_refused_before_the_data_load(
    pretrained, data_config, message
):
    run_dir, _, _ = pretrained
    config = RunConfig(
        data=data_config,
        model=dataclasses.replace(BACKBONE, model="skiprec_rl"),
        policy=PolicyConfig(init_from=run_dir),
    )
    with pytest.raises(ConfigError, match="other data settings: " + message):
        check_init_from(config)
