"""The compute budget per request (`max_blocks`): the cap's arithmetic, and the served model under
it: a cap of N changes nothing, a cap of 0 runs no block, per-row caps are independent, the kept
blocks are the most probable, and the export serves it without the package."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from serving_testing import RowCountingBlocks, mixed_policy_run

from skiprec_tf.errors import ConfigError
from skiprec_tf.models.policy import greedy_retain
from skiprec_tf.serving.budget import cap_blocks
from skiprec_tf.serving.export import RecommenderServing, export_saved_model
from skiprec_tf.training.run_dir import RunDir


def test_cap_keeps_the_retained_blocks_of_highest_margin():
    actions = tf.constant([[1, 1, 0, 1, 1], [1, 0, 1, 0, 0]], tf.float32)
    margin = tf.constant([[0.5, 3.0, 9.0, 1.0, 2.0], [0.1, 5.0, 0.2, 0.0, 0.0]])
    # Row 0 retains blocks 0, 1, 3, 4 with margins 0.5, 3, 1, 2: a cap of 2 keeps 1 and 4 (block 2
    # has the highest margin but is skipped). Row 1 retains 0 and 2; a cap of 2 keeps both.
    np.testing.assert_array_equal(
        cap_blocks(actions, margin, 2), [[0, 1, 0, 0, 1], [1, 0, 1, 0, 0]]
    )
    np.testing.assert_array_equal(
        cap_blocks(actions, margin, [3, 1]), [[0, 1, 0, 1, 1], [0, 0, 1, 0, 0]]
    )
    np.testing.assert_array_equal(cap_blocks(actions, margin, 5), actions)
    np.testing.assert_array_equal(cap_blocks(actions, margin, 10**6), actions)
    np.testing.assert_array_equal(cap_blocks(actions, margin, 0), tf.zeros_like(actions))


def test_equal_margins_keep_the_first_blocks():
    """A backbone alone (every block retained, equal margins) capped at c: its first c blocks."""
    actions = tf.ones([3, 6])
    capped = cap_blocks(actions, tf.zeros([3, 6]), [0, 2, 5])
    np.testing.assert_array_equal(capped, [[0] * 6, [1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0]])


@pytest.mark.parametrize(
    "max_blocks, message",
    [(-1, "max_blocks must be >= 0"), ([1, 2, 3], "one cap per row"), ([[1], [2]], "a scalar")],
)
def test_a_bad_cap_is_a_clear_error(max_blocks, message):
    # ValueError where the rank is known when traced, InvalidArgumentError where it is not.
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match=message):
        cap_blocks(tf.ones([2, 4]), tf.zeros([2, 4]), max_blocks)


@pytest.fixture
def serving(tiny_run_of_each_backbone):
    """The served SkipRec of a tiny run, its policy pushed to mixed per-user decisions; and a
    batch of 32 internal-id sequences."""
    config, model, item_ids, inputs = mixed_policy_run(tiny_run_of_each_backbone, 32, lowest_id=1)
    return RecommenderServing(model, item_ids, config.data.input_length), inputs


def test_a_cap_of_n_gives_the_uncapped_answers_exactly(serving):
    module, inputs = serving
    num_blocks = len(module.residual_blocks)
    scores, actions = tf.function(module.scores)(inputs)
    assert 0 < float(tf.reduce_mean(actions)) < 1
    capped_scores, capped_actions = tf.function(module.scores)(inputs, tf.constant(num_blocks))
    np.testing.assert_array_equal(capped_actions, actions)
    np.testing.assert_array_equal(capped_scores, scores)


def counting_rows(module):
    """Makes `module` run its blocks through a `RowCountingBlocks`, and returns that."""
    counter = RowCountingBlocks(module.residual_blocks)
    module.residual_blocks.read = lambda: counter
    return counter


@pytest.mark.parametrize("batch", [1, 32])
def test_a_cap_of_0_runs_no_block(serving, batch):
    module, inputs = serving
    most_blocks = np.argsort(-tf.reduce_sum(module.actions(inputs), axis=1).numpy(), kind="stable")
    inputs = tf.gather(inputs, most_blocks[:batch])
    counter = counting_rows(module)
    scores, actions = tf.function(module.scores)(inputs, tf.constant(0))
    assert counter.rows_seen.numpy().sum() == 0 and float(tf.reduce_sum(actions)) == 0
    tf.function(module.scores)(inputs, tf.constant(len(module.residual_blocks)))
    assert counter.rows_seen.numpy().sum() > 0, "the counter sees blocks that do run"
    hidden = module.item_embedding(inputs)  # E_0 alone: no block applied
    if module.position_embedding is not None:
        hidden += module.position_embedding(tf.range(inputs.shape[1]))
    hidden = hidden[:, -1]
    if module.final_norm is not None:
        hidden = module.final_norm(hidden)
    np.testing.assert_allclose(scores, module.output_layer(hidden)[:, 1:], atol=1e-5)


def test_each_row_under_its_own_cap_gets_the_answer_it_gets_alone(serving):
    module, inputs = serving
    caps = np.random.default_rng(2).integers(0, len(module.residual_blocks) + 1, size=32)
    scores_of = tf.function(module.scores)
    together, actions = scores_of(inputs, tf.constant(caps, tf.int32))
    assert len(set(caps)) > 2
    for row in range(0, 32, 5):
        alone, alone_actions = scores_of(inputs[row : row + 1], tf.constant(int(caps[row])))
        np.testing.assert_array_equal(alone_actions[0], actions[row])
        np.testing.assert_allclose(alone[0], together[row], atol=1e-5)


def test_under_a_cap_the_kept_blocks_are_the_most_probable_greedy_ones(serving):
    module, inputs = serving
    cap = 2
    probability = tf.nn.softmax(module.policy(inputs))[..., 1].numpy()
    greedy = greedy_retain(module.policy(inputs)).numpy()
    kept = module.actions(inputs, tf.constant(cap)).numpy()
    for row in range(len(kept)):
        retained = np.flatnonzero(greedy[row])
        expected = retained[np.argsort(-probability[row, retained], kind="stable")[:cap]]
        np.testing.assert_array_equal(np.flatnonzero(kept[row]), np.sort(expected))
    assert (kept.sum(axis=1) <= cap).all() and (kept <= greedy).all()
    assert (kept.sum(axis=1) < greedy.sum(axis=1)).any(), "the cap binds for some users"


# Run in a fresh interpreter: TensorFlow only, never skiprec_tf.
SERVE = """
import json, sys
import tensorflow as tf
rows, caps = json.loads(sys.argv[2])
model = tf.saved_model.load(sys.argv[1])
budget = model.signatures["recommend_budget"]
out = {}
for name, max_blocks in caps.items():
    result = budget(item_ids=tf.constant(rows, tf.int64), k=tf.constant(5),
                    max_blocks=tf.constant(max_blocks, tf.int32))
    out[name] = {key: value.numpy().tolist() for key, value in result.items()}
out["uncapped"] = {
    key: value.numpy().tolist()
    for key, value in model.signatures["recommend_k"](
        item_ids=tf.constant(rows, tf.int64), k=tf.constant(5)).items()
}
out["imported"] = "skiprec_tf" in sys.modules
print(json.dumps(out))
"""


@pytest.mark.slow
def test_the_export_serves_the_budget_in_a_fresh_process(serving, tmp_path):
    module, inputs = serving
    num_blocks = len(module.residual_blocks)
    path = export_saved_model(module, str(tmp_path), "m")
    rows = tf.gather(module.raw_ids, inputs[:6]).numpy().tolist()
    caps = {"n": num_blocks, "zero": 0, "one": 1, "per_row": [0, 1, 2, 3, 4, num_blocks]}
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", SERVE, path, json.dumps([rows, caps])],
        cwd="/", env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served["imported"] is False
    assert served["n"] == served["uncapped"]
    assert served["zero"]["blocks_used"] == [0] * 6
    assert max(served["one"]["blocks_used"]) <= 1
    assert served["per_row"]["blocks_used"] == [
        min(cap, used) for cap, used in zip(caps["per_row"], served["n"]["blocks_used"])
    ]
    for name, max_blocks in caps.items():
        live = module.serve_budget(tf.constant(rows, tf.int64), tf.constant(5), max_blocks)
        assert served[name]["item_ids"] == live["item_ids"].numpy().tolist(), name


@pytest.mark.parametrize("batch", [1, 32])
def test_a_static_sub_network_runs_only_its_blocks(tiny_run_of_each_backbone, batch):
    """`fixed_blocks`: the static competitor; equal to the model under those actions (Eq. 5)."""
    config, model, item_ids = RunDir(tiny_run_of_each_backbone).load_model()
    module = RecommenderServing(model, item_ids, config.data.input_length, fixed_blocks=[2, 0])
    inputs = tf.constant(
        np.random.default_rng(3).integers(0, len(item_ids), size=(batch, config.data.input_length)),
        tf.int32,
    )
    counter = counting_rows(module)
    scores, actions = tf.function(module.scores)(inputs)
    np.testing.assert_array_equal(actions, np.tile([1, 0, 1, 0], (batch, 1)))
    assert counter.rows_seen.numpy().tolist() == [batch, 0, batch, 0]
    expected = model.output_layer(model.encode(inputs, actions=actions)[:, -1])[:, 1:]
    np.testing.assert_allclose(scores, expected, atol=1e-5)
    with pytest.raises(ConfigError, match="the blocks are 0..3"):
        RecommenderServing(model, item_ids, config.data.input_length, fixed_blocks=[4])
