"""Odd and bad requests against an export loaded without skiprec_tf: each gets a correct answer
or a clear INVALID_ARGUMENT error, and none crashes the process (the issue's matrix)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from serving_testing import run_main

from skiprec_tf.errors import ConfigError
from skiprec_tf.serving.export import RecommenderServing, export_saved_model, history_mask
from skiprec_tf.training.run_dir import RunDir

# Run in a fresh interpreter: TensorFlow only, never skiprec_tf. Every request of the JSON file
# argv[2] against the export of its "model" (argv[1] is {model: path}); an error is a result.
SERVE = """
import json, sys
import numpy as np
import tensorflow as tf
paths = json.loads(sys.argv[1])
models = {name: tf.saved_model.load(path) for name, path in paths.items()}
out = {"imported": "skiprec_tf" in sys.modules}
for name, request in json.load(open(sys.argv[2])).items():
    signature = models[request["model"]].signatures[request["signature"]]
    inputs = {}
    for key, (value, dtype, *shape) in request["inputs"].items():
        value = np.array(value, dtype).reshape(shape[0] if shape else np.shape(value))
        if "tile" in request and key == "item_ids":
            value = np.tile(value, [request["tile"], 1])
        inputs[key] = tf.constant(value, tf.dtypes.as_dtype(dtype))
    try:
        result = {key: value.numpy() for key, value in signature(**inputs).items()}
    except tf.errors.InvalidArgumentError as error:
        out[name] = {"error": error.message}
        continue
    if "tile" in request:  # a big batch: its shape, and its distinct rows' answers
        out[name] = {key: [list(value.shape), value[: len(value) // request["tile"]].tolist()]
                     for key, value in result.items()}
    else:
        out[name] = {key: value.tolist() for key, value in result.items()}
print(json.dumps(out))
"""


def _requests(item_ids, input_length: int):
    rng = np.random.default_rng(0)
    known = [int(i) for i in item_ids[1:]]
    t = input_length + 1  # the sequence length t: a row keeps its last t - 1 items
    # From half the catalogue, so that excluding the history leaves items to recommend.
    history = [int(i) for i in rng.choice(known[: len(known) // 2], size=50 * t)]
    num_items = len(known)

    def rows(*rows_, dtype="int64"):
        return [list(rows_) if rows_ else [], dtype]

    def request(signature, item_ids_, model="default", **more):
        inputs = {"item_ids": item_ids_}
        for key, value in more.items():
            inputs[key] = [value, "int32"]
        return {"model": model, "signature": signature, "inputs": inputs}

    def k_request(rows_, k, model="default"):
        return request("recommend_k", rows_, model, k=k)

    matrix = {
        "empty_batch": request("serving_default", [[], "int64", [0, t]]),
        "empty_batch_no_columns": request("serving_default", [[], "int64", [0, 0]]),
        "length_0": k_request(rows([]), 5),
        "all_padding": k_request(rows([0] * 5), 5),
        "length_1": k_request(rows(history[-1:]), 5),
        "length_1_left_padded": k_request(rows([0] * (t - 2) + history[-1:]), 5),
        "length_t_minus_1": k_request(rows(history[-(t - 1) :]), 5),
        "length_t": k_request(rows(history[-t:]), 5),
        "length_50t": k_request(rows(history), 5),
        "all_unknown": k_request(rows([10**12, 7777777, 10**15]), 5),
        "negative": k_request(rows([-1, -(10**12), history[-1]]), 5),
        "all_negative": k_request(rows([-1, -2, -3]), 5),
        "int32": request("serving_default", rows(history[-3:], dtype="int32")),
        "one_dimensional": request("serving_default", [history[-3:], "int64"]),
        "three_dimensional": request("serving_default", [[[history[-3:]]], "int64"]),
        "length_3": k_request(rows(history[-3:]), 5),
        "k_0": k_request(rows(history[-3:]), 0),
        "k_negative": k_request(rows(history[-3:]), -3),
        "budget_k_0": request("recommend_budget", rows(history[-3:]), k=0, max_blocks=2),
        "k_catalogue": k_request(rows(history[-3:]), num_items),
        "k_beyond_catalogue": k_request(rows(history[-3:]), num_items + 7),
        "batch_of_4": k_request(rows(*(history[-t * i - t : -t * i or None] for i in range(4))), 5),
        "batch_of_10000": {
            **k_request(rows(*(history[-t * i - t : -t * i or None] for i in range(4))), 5),
            "tile": 2500,
        },
        "info_default": {"model": "default", "signature": "serving_info", "inputs": {}},
        "info_excluding": {"model": "excluding", "signature": "serving_info", "inputs": {}},
        "excluding_50t": k_request(rows(history), num_items, "excluding"),
        "default_50t_all": k_request(rows(history), num_items),
        "excluding_default_k": request("serving_default", rows(history[-3:]), "excluding"),
    }
    return matrix, history


@pytest.fixture(scope="module")
def served(tiny_skiprec_run, tmp_path_factory):
    """(results of the matrix in a fresh process, history, input length, catalogue raw ids)."""
    config, model, item_ids = RunDir(tiny_skiprec_run).load_model()
    base = str(tmp_path_factory.mktemp("bad_requests"))
    paths = {
        name: export_saved_model(
            RecommenderServing(model, item_ids, config.data.input_length, exclude_history=exclude),
            base,
            name,
        )
        for name, exclude in (("default", False), ("excluding", True))
    }
    matrix, history = _requests(item_ids, config.data.input_length)
    request_file = os.path.join(base, "requests.json")
    with open(request_file, "w") as file:
        json.dump(matrix, file)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    result = subprocess.run(
        [sys.executable, "-c", SERVE, json.dumps(paths), request_file],
        cwd="/", env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out.pop("imported") is False
    return out, history, config.data.input_length, [int(i) for i in item_ids[1:]]


def _same_answer(a, b):
    assert a["item_ids"] == b["item_ids"]
    np.testing.assert_allclose(a["scores"], b["scores"], atol=1e-6)
    assert a["blocks_used"] == b["blocks_used"]
    assert a["history_length"] == b["history_length"]


def test_an_empty_batch_gets_empty_outputs(served):
    out = served[0]
    for name in ("empty_batch", "empty_batch_no_columns"):
        assert out[name] == {"item_ids": [], "scores": [], "blocks_used": [], "history_length": []}


def test_a_row_without_known_items_is_flagged_by_history_length_0(served):
    out = served[0]
    for name in ("length_0", "all_unknown", "all_negative"):
        _same_answer(out[name], out["all_padding"])
    assert out["all_padding"]["history_length"] == [0]
    assert len(out["all_padding"]["item_ids"][0]) == 5


def test_a_history_of_one_item(served):
    out = served[0]
    _same_answer(out["length_1"], out["length_1_left_padded"])
    assert out["length_1"]["history_length"] == [1]


def test_histories_of_t_minus_1_t_and_50t_items_keep_their_last_t_minus_1(served):
    out, _, input_length, _ = served
    _same_answer(out["length_t"], out["length_t_minus_1"])
    _same_answer(out["length_50t"], out["length_t_minus_1"])
    assert out["length_t_minus_1"]["history_length"] == [input_length]


def test_negative_ids_count_as_padding(served):
    out = served[0]
    _same_answer(out["negative"], out["length_1"])


def test_int32_item_ids_are_rejected_naming_both_dtypes(served):
    message = served[0]["int32"]["error"]
    assert "int64" in message and "int32" in message, message


def test_item_ids_of_another_rank_than_2_are_rejected(served):
    for name in ("one_dimensional", "three_dimensional"):
        assert "item_ids must be [batch, length]" in served[0][name]["error"], name


def test_k_below_1_is_rejected(served):
    for name in ("k_0", "k_negative", "budget_k_0"):
        assert "k must be at least 1" in served[0][name]["error"], name


def test_k_beyond_the_catalogue_returns_the_whole_catalogue_ranked(served):
    out, _, _, catalogue = served
    _same_answer(out["k_beyond_catalogue"], out["k_catalogue"])
    (ids,), (scores,) = out["k_catalogue"]["item_ids"], out["k_catalogue"]["scores"]
    assert sorted(ids) == sorted(catalogue)
    assert scores == sorted(scores, reverse=True)
    assert ids[:5] == out["length_3"]["item_ids"][0]


def test_a_batch_of_10000_users(served):
    out = served[0]
    big, small = out["batch_of_10000"], out["batch_of_4"]
    assert big["item_ids"][0] == [10000, 5] and big["scores"][0] == [10000, 5]
    assert big["blocks_used"][0] == [10000] and big["history_length"][0] == [10000]
    assert big["item_ids"][1] == small["item_ids"]
    np.testing.assert_allclose(big["scores"][1], small["scores"], atol=1e-5)


def test_the_export_says_whether_it_excludes_the_history(served):
    out = served[0]
    assert out["info_default"]["exclude_history"] is False
    assert out["info_excluding"]["exclude_history"] is True
    assert out["info_default"]["top_k"] == 10


def test_exclude_history_never_recommends_a_history_item(served):
    out, history, _, catalogue = served
    (ranked,) = out["default_50t_all"]["item_ids"]
    (ids,), (scores,) = out["excluding_50t"]["item_ids"], out["excluding_50t"]["scores"]
    left = [item for item in ranked if item not in set(history)]
    assert left, "the tiny catalogue must have items outside the history"
    # The items outside the whole request (not only its window), in the default ranking's order,
    # then raw id 0 with the lowest score in the slots left.
    assert ids == left + [0] * (len(catalogue) - len(left))
    assert scores[len(left) :] == [float(np.finfo(np.float32).min)] * (len(catalogue) - len(left))
    (recommended,) = out["excluding_default_k"]["item_ids"]
    assert len(recommended) == 10 and not set(recommended) & set(history[-3:])


def test_history_mask_marks_every_known_id_of_each_row():
    mask = history_mask(tf.constant([[0, 2, 2, 5], [1, 0, 0, 0]], tf.int32), num_items=5)
    np.testing.assert_array_equal(
        mask, [[1, 0, 1, 0, 0, 1], [1, 1, 0, 0, 0, 0]]
    )  # column 0 is padding


def test_top_k_below_1_is_an_error(tiny_skiprec_run):
    config, model, item_ids = RunDir(tiny_skiprec_run).load_model()
    with pytest.raises(ConfigError, match="top_k=0"):
        RecommenderServing(model, item_ids, config.data.input_length, top_k=0)
    result = run_main("--mode=export", "--run_dir=x", "--export_dir=y", "--top_k=0")
    assert result.returncode != 0 and "--top_k=0" in result.stderr, result.stderr
