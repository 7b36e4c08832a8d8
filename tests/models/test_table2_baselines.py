"""The paper's Table 2 baselines (NextItNet, GRU4Rec, Caser, NFM): what every next-item model of
the project must do, and each one's own equation."""

import itertools

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from skiprec_tf.config import DataConfig, ModelConfig, PolicyConfig, RunConfig, TrainConfig
from skiprec_tf.data.sources import load_data
from skiprec_tf.models import NFM, Caser, GRU4Rec, NextItNet, build_recommender
from skiprec_tf.training.trainer import train_and_evaluate

V, D, T = 30, 8, 9
BASELINES = ("nextitnet", "gru4rec", "caser", "nfm")


def _model(name, **kwargs):
    config = ModelConfig(model=name, embedding_dim=D, num_blocks=4, caser_window=3, **kwargs)
    model = build_recommender(config, PolicyConfig(), V, T)
    model(tf.zeros([1, T], tf.int32))
    return model


def _inputs(seed=0, batch=4):
    return tf.constant(np.random.default_rng(seed).integers(1, V + 1, size=(batch, T)), tf.int32)


@pytest.mark.parametrize(
    "name, cls", [("nextitnet", NextItNet), ("gru4rec", GRU4Rec), ("caser", Caser), ("nfm", NFM)]
)
def test_model_of_the_flag_and_its_shapes(name, cls):
    model = _model(name)
    assert type(model) is cls and model.name == name
    inputs = _inputs()
    assert model.encode(inputs).shape == (4, T, D)
    assert model(inputs).shape == (4, V + 1)


@pytest.mark.parametrize("name", BASELINES)
def test_a_position_reads_no_later_item(name):
    """Causality: every position predicts the next item, so it must not see it."""
    model = _model(name)
    inputs = _inputs()
    changed = tf.concat([inputs[:, :5], (inputs[:, 5:] % V) + 1], axis=1)
    before, after = model.encode(inputs), model.encode(changed)
    np.testing.assert_allclose(before[:, :5], after[:, :5], atol=1e-6)
    assert not np.allclose(before[:, 5:], after[:, 5:], atol=1e-6)


@pytest.mark.parametrize("name", ("gru4rec", "caser", "nfm"))
def test_left_padding_changes_no_real_position(name):
    """Padding (0) is no item: a padded sequence gets the states of the unpadded one."""
    model = _model(name)
    items = _inputs(batch=2)[:, 3:]
    padded = tf.pad(items, [[0, 0], [3, 0]])
    np.testing.assert_allclose(model.encode(padded)[:, 3:], model.encode(items), atol=1e-5)


@pytest.mark.parametrize("name", BASELINES)
def test_checkpoint_round_trip_gives_the_same_scores(name, tmp_path):
    model, other = _model(name), _model(name, dropout=0.0)
    # A different draw of the initial weights: the restore has something to change.
    for variable in other.trainable_variables:
        variable.assign(tf.random.normal(variable.shape, seed=1) * 0.1)
    inputs = _inputs()
    assert not np.allclose(model(inputs), other(inputs))
    path = tf.train.Checkpoint(model=model).write(str(tmp_path / "ckpt"))
    tf.train.Checkpoint(model=other).read(path).assert_consumed()
    np.testing.assert_allclose(model(inputs), other(inputs), atol=1e-6)


@pytest.mark.slow  # the second tier: two epochs of the real trainer for each baseline
@pytest.mark.parametrize("name", BASELINES)
def test_training_on_the_synthetic_default_lowers_the_loss(name, tmp_path):
    """Two epochs of the project's trainer on the quick start's kind of data, through main's
    path (config, pipeline, early stopping, test metrics)."""
    data_config = DataConfig(synthetic_users=300, synthetic_items=40, seq_len=10)
    config = RunConfig(
        data=data_config,
        model=ModelConfig(model=name, embedding_dim=16, num_blocks=2, caser_window=3),
        train=TrainConfig(batch_size=64, epochs=3, learning_rate=0.01),
        run_dir=str(tmp_path / "run"),
    )
    results = train_and_evaluate(config, load_data(data_config))
    losses = pd.read_csv(tmp_path / "run" / "history.csv")["loss"]
    assert losses.iloc[-1] < losses.iloc[0]
    assert results["model"] == name and 0.0 <= results["test"]["mrr_at_5"] <= 1.0


def test_nextitnet_is_nextitnet_plus_with_lambda_fixed_at_one():
    config = ModelConfig(model="nextitnet", rezero=True)
    assert config.rezero is False and config.backbone == "nextitnet_plus"
    model = _model("nextitnet")
    lambdas = [v for v in model.variables if "rezero_lambda" in v.path]
    assert len(lambdas) == 4
    assert all(float(v.numpy().squeeze()) == 1.0 and not v.trainable for v in lambdas)


def test_baselines_take_no_backbone():
    with pytest.raises(Exception, match="--backbone is SkipRec's"):
        ModelConfig(model="gru4rec", backbone="nextitnet_plus")
    assert ModelConfig(model="caser").backbone is None
    assert not ModelConfig(model="nfm").is_skiprec


def test_bi_interaction_is_the_sum_over_pairs():
    """NFM Eq. 4: f_BI = sum over pairs i < j of v_i * v_j, at every prefix."""
    from skiprec_tf.layers import BiInteractionPooling

    v = np.random.default_rng(2).normal(size=(1, 5, 3)).astype(np.float32)
    pooled = BiInteractionPooling()(tf.constant(v)).numpy()
    for p in range(5):
        pairs = sum(
            (v[0, i] * v[0, j] for i, j in itertools.combinations(range(p + 1), 2)),
            np.zeros(3, np.float32),
        )
        np.testing.assert_allclose(pooled[0, p], pairs, atol=1e-5)


def test_caser_convolutions_are_the_papers():
    """Caser section 3.2 written out at the last position: max-pooled ReLU of each horizontal
    filter, and each vertical filter's weighted sum of the L rows."""
    from skiprec_tf.layers import CaserConvolutions

    window, d = 3, 4
    layer = CaserConvolutions(window, horizontal_filters=2, vertical_filters=2)
    embeddings = np.random.default_rng(3).normal(size=(1, 6, d)).astype(np.float32)
    out = layer(tf.constant(embeddings)).numpy()[0, -1]
    image = embeddings[0, -window:]  # the latest L items, oldest first
    expected = []
    for h, conv in zip(range(1, window + 1), layer.horizontal):
        kernel, bias = (w.numpy() for w in conv.weights)  # [h, d, n_h], [n_h]
        places = [
            np.einsum("hd,hdf->f", image[i : i + h], kernel) + bias for i in range(window - h + 1)
        ]
        expected.append(np.max(np.maximum(places, 0.0), axis=0))
    kernel, bias = (w.numpy() for w in layer.vertical.weights)  # [L, n_v], [n_v, 1]
    vertical = np.einsum("ld,lv->vd", image, kernel) + bias.reshape(-1, 1)
    np.testing.assert_allclose(out, np.concatenate([*expected, vertical.reshape(-1)]), atol=1e-5)
