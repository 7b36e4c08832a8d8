"""SessionServable answers as the signatures of `tf.saved_model.load` do, through both its paths."""

import numpy as np
import pytest
import tensorflow as tf

from skiprec_tf.serving.export import RecommenderServing, export_saved_model
from skiprec_tf.serving.session import SessionServable
from skiprec_tf.training.run_dir import RunDir


@pytest.fixture(scope="module")
def exported(tiny_skiprec_run, tmp_path_factory):
    """The tiny run's export (top 5) and its raw item ids."""
    config, model, item_ids = RunDir(tiny_skiprec_run).load_model()
    serving = RecommenderServing(model, item_ids, config.data.input_length, top_k=5)
    return export_saved_model(serving, str(tmp_path_factory.mktemp("export")), "m"), item_ids


def _batches(item_ids):
    """Batches of 1 and 3 users (both plans of `run_retained_blocks`), one with an unknown id."""
    known = np.random.default_rng(0).choice(item_ids[1:], size=20)
    return [
        known[None, -9:],
        np.stack([known[-9:], known[:9], np.r_[known[:4], 0, 0, -5, 0, 0]]),
    ]


def _assert_same(served, expected, name):
    assert sorted(served) == sorted(expected), name
    np.testing.assert_array_equal(served["item_ids"], expected["item_ids"], err_msg=name)
    np.testing.assert_allclose(served["scores"], expected["scores"], atol=1e-5, err_msg=name)
    np.testing.assert_array_equal(served["blocks_used"], expected["blocks_used"], err_msg=name)


def test_run_answers_as_the_loaded_signatures(exported):
    path, item_ids = exported
    signatures = tf.saved_model.load(path).signatures
    servable = SessionServable(path)
    assert {"serving_default", "recommend_k"} <= set(servable.signatures)
    for batch in _batches(item_ids):
        batch = batch.astype(np.int64)
        default = signatures["serving_default"](item_ids=tf.constant(batch))
        served = servable.run("serving_default", {"item_ids": batch})
        _assert_same(served, default, "serving_default")
        assert served["item_ids"].shape == (len(batch), 5)
        k = signatures["recommend_k"](item_ids=tf.constant(batch), k=tf.constant(3))
        served = servable.run("recommend_k", {"item_ids": batch, "k": np.int32(3)})
        _assert_same(served, k, "recommend_k")
        assert served["item_ids"].shape == (len(batch), 3)


def test_item_ids_callable_answers_as_the_loaded_signature(exported):
    path, item_ids = exported
    signature = tf.saved_model.load(path).signatures["serving_default"]
    serve = SessionServable(path).item_ids_callable()
    for batch in _batches(item_ids):
        batch = batch.astype(np.int64)
        _assert_same(serve(batch), signature(item_ids=tf.constant(batch)), f"batch {len(batch)}")
