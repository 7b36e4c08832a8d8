"""SavedModel export: loads and serves in a process that never imports skiprec_tf, gives the
in-process model's top-k, handles odd requests, and is written atomically."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from serving_testing import mixed_policy_run, run_main

from skiprec_tf.serving import export
from skiprec_tf.serving.export import RecommenderServing, export_saved_model, right_align
from skiprec_tf.serving.session import SessionServable
from skiprec_tf.serving.warmup import read_warmup_requests
from skiprec_tf.training.run_dir import RunDir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Run in a fresh interpreter: TensorFlow only, never skiprec_tf.
SERVE = """
import json, sys
import tensorflow as tf
requests = json.loads(sys.argv[2])
model = tf.saved_model.load(sys.argv[1])
out = {}
for name, rows in requests.items():
    result = model.signatures["recommend_k"](item_ids=tf.constant(rows, tf.int64), k=tf.constant(5))
    out[name] = {key: value.numpy().tolist() for key, value in result.items()}
out["default_k"] = len(model.signatures["serving_default"](item_ids=tf.constant([[1]], tf.int64))["item_ids"][0])
out["imported"] = "skiprec_tf" in sys.modules
print(json.dumps(out))
"""


def _requests(item_ids):
    rng = np.random.default_rng(0)
    known = item_ids[1:].tolist()
    history = rng.choice(known, size=30).tolist()
    return {
        "long": [history],  # longer than t - 1: only the last 9 items count
        "last_9": [history[-9:]],
        "short": [history[-3:]],
        "short_left_padded": [[0] * 6 + history[-3:]],
        "short_right_padded": [history[-3:] + [0] * 6],
        "unknown": [[-5, history[-2], 10**12, history[-1]]],
        "known_only": [[history[-2], history[-1]]],
        "all_padding": [[0, 0, 0], [-1, 10**12, 7777777]],
        "batch": [history[-9:], history[-20:-11], history[-5:-1] + [0] * 5],
    }


def _serve_in_fresh_process(path, requests):
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    result = subprocess.run(
        [sys.executable, "-c", SERVE, path, json.dumps(requests)],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_export_round_trip_without_skiprec_tf(tiny_run_of_each_backbone, tmp_path):
    run_dir = tiny_run_of_each_backbone
    result = run_main(
        "--mode=export", f"--run_dir={run_dir}", f"--export_dir={tmp_path}",
        "--model_name=synthetic_rl", "--top_k=7",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    path = tmp_path / "synthetic_rl" / "1"
    assert (path / "saved_model.pb").is_file()
    assert os.listdir(tmp_path / "synthetic_rl") == ["1"], "no staging directory left behind"

    config, model, item_ids = RunDir(run_dir).load_model()
    serving = RecommenderServing(model, item_ids, config.data.input_length, top_k=7)
    requests = _requests(item_ids)
    served = _serve_in_fresh_process(str(path), requests)
    assert served["imported"] is False and served["default_k"] == 7

    for name, rows in requests.items():
        live = serving.serve_k(tf.constant(rows, tf.int64), tf.constant(5))
        assert served[name]["item_ids"] == live["item_ids"].numpy().tolist(), name
        np.testing.assert_allclose(served[name]["scores"], live["scores"], atol=1e-5)
        assert served[name]["blocks_used"] == live["blocks_used"].numpy().tolist(), name
    assert served["long"] == served["last_9"], "a long history keeps its last t - 1 items"
    for padded in ("short_left_padded", "short_right_padded"):
        assert served[padded] == served["short"], padded
    assert served["unknown"] == served["known_only"], "unknown ids count as padding"
    assert len(served["all_padding"]["item_ids"]) == 2 and len(served["batch"]["item_ids"]) == 3


def test_serving_equals_the_masked_training_model(tiny_run_of_each_backbone):
    config, model, item_ids, inputs = mixed_policy_run(tiny_run_of_each_backbone, rows=64)
    serving = RecommenderServing(model, item_ids, config.data.input_length)
    scores, actions = tf.function(serving.scores)(inputs)
    assert 0 < float(tf.reduce_mean(actions)) < 1 and len(np.unique(actions, axis=0)) > 2
    np.testing.assert_array_equal(actions, model.inference_actions(inputs))
    np.testing.assert_allclose(scores, model(inputs)[:, 1:], atol=1e-5)
    one_user = tf.function(serving.scores)  # batch 1: the one-user plan
    for row in range(8):
        scores, actions = one_user(inputs[row : row + 1])
        np.testing.assert_allclose(scores, model(inputs[row : row + 1])[:, 1:], atol=1e-5)


@pytest.mark.slow
def test_saved_model_cli_lists_signatures_of_stock_ops(tiny_run_of_each_backbone, tmp_path):
    config, model, item_ids = RunDir(tiny_run_of_each_backbone).load_model()
    path = export_saved_model(
        RecommenderServing(model, item_ids, config.data.input_length), str(tmp_path), "m"
    )
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run(
        [cli, "show", "--all", "--dir", path],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    # `run` loads the SavedModel into a session, as TF Serving's model server does.
    np.save(tmp_path / "request.npy", item_ids[None, 1:4].astype(np.int64))
    ran = subprocess.run(
        [cli, "run", "--dir", path, "--tag_set", "serve", "--signature_def", "serving_default",
         "--inputs", f"item_ids={tmp_path / 'request.npy'}"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert "Result for output key item_ids" in ran.stdout and "blocks_used" in ran.stdout
    for expected in ("signature_def['serving_default']", "signature_def['recommend_k']",
                     "signature_def['recommend_budget']", "inputs['max_blocks'] tensor_info",
                     "inputs['item_ids'] tensor_info", "dtype: DT_INT64", "shape: (-1, -1)",
                     "outputs['item_ids']", "outputs['scores']", "outputs['blocks_used']"):  # fmt: skip
        assert expected in shown.stdout, expected

    graph = tf.saved_model.load(path).signatures["serving_default"].graph.as_graph_def()
    nodes = list(graph.node) + [n for f in graph.library.function for n in f.node_def]
    assert not {n.op for n in nodes} & {"PyFunc", "EagerPyFunc", "PyFuncStateless"}
    # Each plan a call of its own (not inlined) function, and the one-user plan a loop (see
    # skipping.run_retained_blocks).
    assert any(n.op in ("Case", "StatelessCase") for n in nodes)  # the plan choice
    assert sum(f.attr["_noinline"].b for f in graph.library.function) >= 2
    assert any(n.op in ("While", "StatelessWhile") for n in nodes)


@pytest.mark.slow
def test_tf_serving_replays_the_warmup_requests_in_a_session(tiny_run_of_each_backbone, tmp_path):
    """As TF Serving does at load: each request runs its signature in the loaded session."""
    config, model, item_ids = RunDir(tiny_run_of_each_backbone).load_model()
    serving = RecommenderServing(model, item_ids, config.data.input_length, top_k=7)
    path = export_saved_model(serving, str(tmp_path), "m")
    requests = list(read_warmup_requests(path))
    assert len(requests) == 6
    servable = SessionServable(path)
    for name, inputs in requests:
        assert inputs.keys() == servable.signatures[name].inputs.keys(), name
        served = servable.run(name, inputs)
        assert served["item_ids"].shape == (len(inputs["item_ids"]), 7), name
        assert set(served["item_ids"].ravel()) <= set(item_ids[1:]), name


def test_right_align():
    rows = tf.constant([[3, 0, 4, 0], [0, 0, 0, 0], [1, 2, 3, 4]], tf.int32)
    np.testing.assert_array_equal(right_align(rows, 3), [[0, 3, 4], [0, 0, 0], [2, 3, 4]])
    np.testing.assert_array_equal(right_align(rows, 6)[0], [0, 0, 0, 0, 3, 4])


@pytest.mark.slow
def test_a_failed_export_leaves_no_version_directory(tiny_skiprec_run, tmp_path, monkeypatch):
    config, model, item_ids = RunDir(tiny_skiprec_run).load_model()
    serving = RecommenderServing(model, item_ids, config.data.input_length)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export.tf.saved_model, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        export_saved_model(serving, str(tmp_path), "m")
    assert os.listdir(tmp_path / "m") == []


def test_an_export_directory_with_versions_gets_the_next_or_refuses_one(
    tiny_skiprec_run, tmp_path, monkeypatch
):
    config, model, item_ids = RunDir(tiny_skiprec_run).load_model()
    serving = RecommenderServing(model, item_ids, config.data.input_length)
    for name in ("1", "3", ".5-incomplete-x", "notes"):
        os.makedirs(tmp_path / "m" / name)
    saved = []
    monkeypatch.setattr(export.tf.saved_model, "save", lambda _, path, **__: saved.append(path))
    assert export_saved_model(serving, str(tmp_path), "m") == str(tmp_path / "m" / "4")
    with pytest.raises(export.ConfigError, match="m/3 already exists; choose another"):
        export_saved_model(serving, str(tmp_path), "m", version=3)
    assert len(saved) == 1 and os.listdir(tmp_path / "m" / "3") == []
