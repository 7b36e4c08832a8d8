"""Many threads at once, as TF Serving calls a model: every signature of an export, called from 8
threads with mixed batch sizes, `k`s and budgets, answers each request as it does alone, whether
loaded by `tf.saved_model.load` or into one TF session (TF Serving's model server)."""

import collections
import concurrent.futures
import threading

import numpy as np
import pytest
import tensorflow as tf
from serving_testing import mixed_policy_run

from skiprec_tf.serving.export import RecommenderServing, export_saved_model
from skiprec_tf.serving.session import SessionServable

pytestmark = pytest.mark.slow  # the second tier (conftest.py)

THREADS = 8
ROUNDS = 1  # every thread sends every request this many times, in its own random order
BATCH_SIZES = (0, 1, 2, 3, 17, 64)
INT_OUTPUTS = ("item_ids", "blocks_used", "history_length")


@pytest.fixture(scope="module")
def _exports(tmp_path_factory):
    return {}


@pytest.fixture
def exported(tiny_run_of_each_backbone, tmp_path_factory, _exports):
    """(path, raw item ids, N) of the run's export, its policy pushed to mixed per-user decisions
    so that both plans of `run_retained_blocks` and real skipping run; one export per backbone."""
    run_dir = tiny_run_of_each_backbone
    if run_dir not in _exports:
        config, model, item_ids, _ = mixed_policy_run(run_dir, rows=1)
        serving = RecommenderServing(model, item_ids, config.data.input_length, top_k=7)
        path = export_saved_model(serving, str(tmp_path_factory.mktemp("export")), "m")
        _exports[run_dir] = path, item_ids, len(model.residual_blocks)
    return _exports[run_dir]


def _item_ids(rng, item_ids, batch: int):
    """`[batch, length]` raw ids of a random length: known ids, some 0s and unknown ids."""
    length = int(rng.choice([1, 4, 9, 30]))
    rows = rng.choice(item_ids[1:], size=(batch, length)).astype(np.int64)
    odd = rng.random(rows.shape)
    rows[odd < 0.1] = 0
    rows[(odd >= 0.1) & (odd < 0.15)] = 10**12  # unknown
    return rows


def _requests(input_names: dict, item_ids, num_blocks: int, seed: int):
    """Requests `{input name: array}` for a signature with `input_names`: every batch size with
    every `k` (1, 5, the catalogue and beyond) and every budget (0, 1, half, all of the N blocks,
    more than N, and one cap per row)."""
    names = set(input_names)
    assert names <= {"item_ids", "k", "max_blocks"}, f"a new input to cover: {names}"
    if not names:
        return [{}] * 4
    rng = np.random.default_rng(seed)
    num_items = len(item_ids) - 1
    ks = [1, 5, num_items, num_items + 3] if "k" in names else [None]
    budgets = ["scalar", "rows"] if "max_blocks" in names else [None]
    requests = []
    for batch in BATCH_SIZES:
        for k in ks:
            for budget in budgets:
                inputs = {"item_ids": _item_ids(rng, item_ids, batch)}
                if k is not None:
                    inputs["k"] = np.int32(k)
                if budget == "scalar":
                    inputs["max_blocks"] = np.int32(
                        rng.choice([0, 1, num_blocks // 2, num_blocks, num_blocks + 2])
                    )
                elif budget == "rows":
                    inputs["max_blocks"] = rng.integers(0, num_blocks + 1, batch).astype(np.int32)
                requests.append(inputs)
    return requests


class _Eager:
    """The export loaded by `tf.saved_model.load`: its signatures, called with tensors."""

    def __init__(self, path):
        self.loaded = tf.saved_model.load(path)

    def input_names(self):
        return {
            name: sorted(function.structured_input_signature[1])
            for name, function in self.loaded.signatures.items()
        }

    def run(self, name, inputs):
        signature = self.loaded.signatures[name]
        answer = signature(**{key: tf.constant(value) for key, value in inputs.items()})
        return {key: value.numpy() for key, value in answer.items()}


class _Session:
    """The export in one TF session, each request a `Session::Run`, as TF Serving serves it."""

    def __init__(self, path):
        self.servable = SessionServable(path)

    def input_names(self):
        return {
            name: sorted(signature.inputs)
            for name, signature in self.servable.signatures.items()
            if not name.startswith("__")  # `__saved_model_init_op`: the tables' initializer
        }

    def run(self, name, inputs):
        return self.servable.run(name, inputs)


def _assert_same_answer(answer, expected, what):
    assert sorted(answer) == sorted(expected), what
    for key, value in expected.items():
        if key == "scores":
            np.testing.assert_allclose(answer[key], value, rtol=1e-6, atol=1e-6, err_msg=what)
        else:  # item ids, blocks_used, history_length and serving_info: exactly
            np.testing.assert_array_equal(answer[key], value, err_msg=what)
            assert answer[key].dtype == value.dtype, what


@pytest.mark.parametrize("loader", [_Eager, _Session], ids=["tf_saved_model_load", "session"])
def test_every_signature_answers_concurrent_requests_as_it_does_alone(exported, loader):
    path, item_ids, num_blocks = exported
    model = loader(path)
    signatures = model.input_names()
    assert set(signatures) == {
        "serving_default",
        "recommend_k",
        "recommend_budget",
        "serving_info",
    }, "a new signature: check it is covered here"
    work = [
        (name, inputs)
        for seed, (name, inputs_names) in enumerate(sorted(signatures.items()))
        for inputs in _requests(inputs_names, item_ids, num_blocks, seed)
    ]
    expected = [model.run(name, inputs) for name, inputs in work]  # one at a time
    blocks = np.concatenate([answer.get("blocks_used", []) for answer in expected])
    assert {0, num_blocks} < set(blocks.tolist()), "budgets from none to all, and mixed decisions"

    start = threading.Barrier(THREADS)
    lock, in_flight, peak = threading.Lock(), [0], [0]

    def client(seed):
        order = np.random.default_rng(seed).permutation(np.tile(np.arange(len(work)), ROUNDS))
        start.wait(timeout=60)
        answers = []
        for index in order:
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            answers.append((index, model.run(*work[index])))
            with lock:
                in_flight[0] -= 1
        return answers

    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(client, range(THREADS)))

    assert peak[0] > 1, "the requests overlapped"
    counts = collections.Counter()
    for answers in results:
        for index, answer in answers:
            name, inputs = work[index]
            what = f"{name} batch {len(inputs.get('item_ids', []))} request {index}"
            _assert_same_answer(answer, expected[index], what)
            counts[index] += 1
    assert counts == {index: THREADS * ROUNDS for index in range(len(work))}
