"""Property tests of the export's signatures under random requests: any item ids (known, unknown,
0, negative, int64's extremes, empty rows, rows longer than the input), any `k`, any `max_blocks`
(scalar, per row, wrong length or rank), any rank of `item_ids`. Each call either answers as the
model does for each row alone or raises one `InvalidArgumentError` naming the bad input; no other
exception, no crash, no NaN."""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from serving_testing import mixed_policy_run

from skiprec_tf.serving.export import RecommenderServing, export_saved_model

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
# The messages of the request's checks (`checked_request`, `cap_blocks`).
BAD_ITEM_IDS = "item_ids must be [batch, length]"
BAD_K = "k must be at least 1"
BAD_CAP_RANK = "max_blocks: a scalar, or one cap per row"
BAD_CAP_SIZE = "max_blocks: one cap per row of item_ids, or a scalar"
BAD_CAP_VALUE = "max_blocks must be >= 0"
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

pytestmark = pytest.mark.slow  # the second tier (conftest.py)


class Served:
    """The loaded export's signatures, the live module it was exported from, and its sizes."""

    def __init__(self, tiny_skiprec_run, export_dir):
        config, model, item_ids, _ = mixed_policy_run(tiny_skiprec_run, rows=1)
        self.module = RecommenderServing(model, item_ids, config.data.input_length)
        self.signatures = tf.saved_model.load(
            export_saved_model(self.module, export_dir, "m")
        ).signatures
        self.catalogue = [int(i) for i in item_ids[1:]]
        self.known = set(self.catalogue)
        assert 0 not in self.catalogue, "raw id 0 must be padding for the reference requests"
        self.input_length = config.data.input_length
        self.num_items, self.num_blocks = len(self.catalogue), len(model.residual_blocks)
        self.top_k = self.module.top_k
        self._references = {}

    def reference(self, row, cap):
        """(raw ids, scores, blocks used, history length) of the whole catalogue ranked for `row`
        alone by the live module: its last `input_length` known ids, left-padded with 0."""
        known = [i for i in row if i in self.known][-self.input_length :]
        key = (tuple(known), cap)
        if key not in self._references:
            inputs = tf.constant([[0] * (self.input_length - len(known)) + known], tf.int64)
            k = tf.constant(self.num_items)
            if cap is None:
                out = self.module.serve_k(inputs, k)
            else:
                out = self.module.serve_budget(inputs, k, tf.constant(cap, tf.int32))
            self._references[key] = (
                out["item_ids"].numpy()[0].tolist(),
                out["scores"].numpy()[0],
                int(out["blocks_used"].numpy()[0]),
                int(out["history_length"].numpy()[0]),
            )
        return self._references[key]


@pytest.fixture(scope="module")
def served(tiny_skiprec_run, tmp_path_factory):
    """One export of the tiny run, its policy pushed to mixed per-user decisions."""
    return Served(tiny_skiprec_run, str(tmp_path_factory.mktemp("request_properties")))


def item_ids_of(served):
    """Raw ids: known ones (most), 0, unknown positive ones, negative ones, int64's extremes."""
    known = st.sampled_from(served.catalogue)
    return st.one_of(
        known,
        known,
        known,
        st.just(0),
        st.integers(max(served.catalogue) + 1, INT64_MAX),
        st.integers(INT64_MIN, -1),
        st.sampled_from([INT64_MIN, INT64_MAX]),
    )


@st.composite
def item_arrays(draw, served, ranks=(2, 2, 2, 2, 2, 0, 1, 3)):
    """int64 item ids of a random rank (mostly 2): 0 to 5 rows of 0 to 3 t + 2 ids."""
    rank = draw(st.sampled_from(ranks))
    if rank == 2:
        shape = (draw(st.integers(0, 5)), draw(st.integers(0, 3 * served.input_length + 2)))
    else:
        shape = tuple(draw(st.lists(st.integers(0, 4), min_size=rank, max_size=rank)))
    size = int(np.prod(shape, dtype=np.int64))
    values = draw(st.lists(item_ids_of(served), min_size=size, max_size=size))
    return np.array(values, dtype=np.int64).reshape(shape)


def ks_of(served):
    """k: 0, 1, the catalogue, beyond it, negative, int32's extremes, or any small value."""
    n = served.num_items
    return st.one_of(
        st.sampled_from([0, 1, n, n + 1, -1, INT32_MAX, INT32_MIN]), st.integers(-3, n + 3)
    )


@st.composite
def caps_of(draw, served, batch):
    """max_blocks: a scalar, one per row, a wrong number of them, or a rank-2 array; negative,
    0, 1..N, beyond N, or int32's extremes."""
    n = served.num_blocks
    cap = st.one_of(st.integers(-2, n + 2), st.sampled_from([INT32_MIN, INT32_MAX]))
    shape = draw(
        st.sampled_from(
            [(), (), (batch,), (batch,), (1,), (draw(st.integers(0, 6)),), (1, 1), (2, batch)]
        )
    )
    size = int(np.prod(shape, dtype=np.int64))
    return np.array(draw(st.lists(cap, min_size=size, max_size=size)), np.int32).reshape(shape)


def errors_of(item_ids, k, max_blocks):
    """The messages a request may fail with; empty if it must be answered."""
    errors = []
    if item_ids.ndim != 2:
        errors.append(BAD_ITEM_IDS)
    if k is not None and k < 1:
        errors.append(BAD_K)
    if max_blocks is not None:
        if max_blocks.ndim > 1:
            errors.append(BAD_CAP_RANK)
        if item_ids.ndim == 2 and max_blocks.size not in (1, len(item_ids)):
            errors.append(BAD_CAP_SIZE)
        if (max_blocks < 0).any():
            errors.append(BAD_CAP_VALUE)
    return errors


def call(served, signature, item_ids, k, max_blocks):
    """The signature's outputs as numpy arrays, for `item_ids`, `k` and `max_blocks` (None: not
    an input of that signature)."""
    inputs = {"item_ids": tf.constant(item_ids, tf.int64)}
    if k is not None:
        inputs["k"] = tf.constant(k, tf.int32)
    if max_blocks is not None:
        inputs["max_blocks"] = tf.constant(max_blocks, tf.int32)
    return {key: value.numpy() for key, value in served.signatures[signature](**inputs).items()}


def check_answer(served, out, item_ids, k, max_blocks):
    """Shapes and dtypes; per row: min(k, V) distinct catalogue ids, finite scores descending,
    blocks used <= min(cap, N), and the ids, scores, blocks and history length of the row alone."""
    batch, k = len(item_ids), min(k, served.num_items)
    assert out["item_ids"].shape == out["scores"].shape == (batch, k)
    assert out["blocks_used"].shape == out["history_length"].shape == (batch,)
    assert out["item_ids"].dtype == np.int64 and out["scores"].dtype == np.float32
    assert out["blocks_used"].dtype == out["history_length"].dtype == np.int32
    assert np.isfinite(out["scores"]).all()
    caps = None if max_blocks is None else np.broadcast_to(max_blocks.reshape(-1), (batch,))
    for b, row in enumerate(item_ids.tolist()):
        ids, scores = out["item_ids"][b].tolist(), out["scores"][b]
        assert len(set(ids)) == k and set(ids) <= served.known
        assert (np.diff(scores) <= 0).all(), scores
        cap = None if caps is None else int(caps[b])
        blocks = int(out["blocks_used"][b])
        assert 0 <= blocks <= (served.num_blocks if cap is None else min(cap, served.num_blocks))
        ranked, reference_scores, reference_blocks, history = served.reference(row, cap)
        assert (blocks, int(out["history_length"][b])) == (reference_blocks, history)
        np.testing.assert_allclose(scores, reference_scores[:k], rtol=1e-5, atol=1e-5)
        # Each id has the score the reference gives it: ties may come in another order.
        score_of = dict(zip(ranked, reference_scores))
        np.testing.assert_allclose(scores, [score_of[i] for i in ids], rtol=1e-5, atol=1e-5)


def answer_or_clear_error(served, signature, item_ids, k, max_blocks):
    """Calls the signature and checks its answer, or that it failed with an expected message."""
    errors = errors_of(item_ids, k, max_blocks)
    try:
        out = call(served, signature, item_ids, k, max_blocks)
    except tf.errors.InvalidArgumentError as error:
        assert errors, f"a valid request failed: {error.message}"
        assert any(message in error.message for message in errors), (errors, error.message)
        event(f"{signature}: error")
        return
    assert not errors, f"answered a request that should fail with {errors}"
    check_answer(served, out, item_ids, served.top_k if k is None else k, max_blocks)
    event(f"{signature}: answered, {'no rows' if not len(item_ids) else 'rows'}")


@SETTINGS
@given(data=st.data())
def test_any_request_gets_the_models_answer_or_one_clear_error(served, data):
    """Any signature, item ids of any rank, any k and max_blocks: the answer of each row alone
    (k distinct ids, finite descending scores, blocks <= min(cap, N)), or an InvalidArgumentError
    naming a bad input."""
    signature = data.draw(
        st.sampled_from(["serving_default", "recommend_k", "recommend_budget"]), label="signature"
    )
    item_ids = data.draw(item_arrays(served), label="item_ids")
    k = None if signature == "serving_default" else data.draw(ks_of(served), label="k")
    max_blocks = None
    if signature == "recommend_budget":
        batch = len(item_ids) if item_ids.ndim else 1
        max_blocks = data.draw(caps_of(served, batch), label="max_blocks")
    answer_or_clear_error(served, signature, item_ids, k, max_blocks)


@SETTINGS
@given(data=st.data())
def test_a_valid_budget_request_gets_each_rows_own_answer(served, data):
    """[batch, length] item ids, 1 <= k, 0 <= max_blocks (scalar or per row): every row gets the
    answer it gets alone, under its own cap, and uses at most that many blocks."""
    item_ids = data.draw(item_arrays(served, ranks=(2,)), label="item_ids")
    k = data.draw(st.integers(1, served.num_items + 2), label="k")
    cap = st.integers(0, served.num_blocks + 1)
    shape = data.draw(st.sampled_from([(), (len(item_ids),)]), label="cap shape")
    size = int(np.prod(shape, dtype=np.int64))
    caps = data.draw(st.lists(cap, min_size=size, max_size=size), label="max_blocks")
    answer_or_clear_error(
        served, "recommend_budget", item_ids, k, np.array(caps, np.int32).reshape(shape)
    )
