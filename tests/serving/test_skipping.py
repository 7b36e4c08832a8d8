"""Real skipping equals the masked Eq. 5 for both kinds of blocks, runs only retained rows, and its
private TF API holds."""

import ast
import pathlib

import numpy as np
import pytest
import tensorflow as tf
from serving_testing import RowCountingBlocks

from skiprec_tf.layers import NextItNetBlock, SelfAttentionBlock
from skiprec_tf.serving.skipping import run_retained_blocks
from skiprec_tf.serving.stacked_blocks import StackedBlocks, stack_blocks

N, D, T = 5, 8, 9
KINDS = {
    "nextitnet": lambda: [NextItNetBlock(dilation=r) for r in (1, 4, 1, 4, 1)],
    "sasrec": lambda: [SelfAttentionBlock(num_heads=2) for _ in range(N)],
}


def _trained(blocks):
    """`blocks` built with random weights (not the identity of fresh ReZero blocks)."""
    rng = np.random.default_rng(0)
    for block in blocks:
        block.build((None, T, D))
        for weight in block.weights:
            weight.assign(rng.normal(scale=0.5, size=weight.shape).astype("float32"))
    return blocks


@pytest.fixture(params=sorted(KINDS))
def blocks(request):
    return _trained(KINDS[request.param]())


def _padding(batch, seed=0):
    """`[batch, T]` True at the left padding of random lengths 1..T."""
    lengths = np.random.default_rng(seed).integers(1, T + 1, size=batch)
    return tf.constant(np.arange(T)[None, :] < (T - lengths)[:, None])


def _masked(hidden, actions, blocks, padding_mask):
    """The training-time form of Eq. 5: every block computed, then mixed by the mask."""
    for l, block in enumerate(blocks):
        retain = actions[:, l, None, None]
        output = block(hidden, padding_mask=padding_mask)
        hidden = retain * output + (1.0 - retain) * hidden
    return hidden


def _run(hidden, actions, blocks, padding_mask=None):
    if padding_mask is None:
        padding_mask = tf.zeros(tf.shape(hidden)[:2], tf.bool)
    counting = RowCountingBlocks(stack_blocks(blocks))
    output = tf.function(run_retained_blocks)(hidden, actions, counting, padding_mask)
    return output, counting.rows_seen.numpy().tolist()


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_equals_the_masked_computation_and_runs_only_retained_rows(blocks, batch):
    rng = np.random.default_rng(batch)
    hidden = tf.constant(rng.normal(size=(batch, T, D)), tf.float32)
    actions = tf.constant(rng.integers(0, 2, size=(batch, N)), tf.float32)
    padding_mask = _padding(batch, seed=batch)
    output, rows = _run(hidden, actions, blocks, padding_mask)
    expected = _masked(hidden, actions, blocks, padding_mask)
    np.testing.assert_allclose(output, expected, atol=1e-4)
    assert rows == actions.numpy().sum(axis=0).astype(int).tolist()


def test_a_block_nobody_retains_is_not_run(blocks):
    hidden = tf.random.normal([6, 9, D], seed=1)
    actions = tf.constant([[1, 0, 1, 1, 0]] * 6, tf.float32)
    output, rows = _run(hidden, actions, blocks)
    assert rows == [6, 0, 6, 6, 0]
    no_padding = tf.zeros([6, T], tf.bool)
    np.testing.assert_allclose(output, _masked(hidden, actions, blocks, no_padding), atol=1e-4)


def test_every_user_skipping_everything(blocks):
    hidden = tf.random.normal([4, 9, D], seed=2)
    output, rows = _run(hidden, tf.zeros([4, N]), blocks)
    np.testing.assert_array_equal(output, hidden)
    assert rows == [0] * N


def test_an_empty_batch(blocks):
    output, rows = _run(tf.zeros([0, 9, D]), tf.zeros([0, N]), blocks)
    assert output.shape == (0, 9, D) and rows == [0] * N


def test_zero_row_block_call(blocks):
    assert blocks[0](tf.zeros([0, 9, D])).shape == (0, 9, D)


# The one private TensorFlow API `skipping.py` depends on (the package's other: the XLA cache's): these
# tests say what changed in TensorFlow and where to look, rather than leave a slower export behind.
_PRIVATE_API = (
    "TensorFlow {version} changed private API that skiprec_tf/serving/skipping.py relies on: {what}."
    " See the docstring of optimized_call there: each plan of run_retained_blocks must stay a"
    " call of its own function, not inlined into the plan choice."
)


def _private_api_changed(what):
    return _PRIVATE_API.format(version=tf.__version__, what=what)


def test_the_plan_choice_stays_a_call_of_noinline_plan_functions():
    block = StackedBlocks(_trained(KINDS["nextitnet"]())).read()
    try:
        traced = tf.function(lambda hidden, actions: run_retained_blocks(hidden, actions, block))
        graph = traced.get_concrete_function(
            tf.TensorSpec([None, 9, D]), tf.TensorSpec([None, N])
        ).graph.as_graph_def()
    except (TypeError, ValueError) as error:
        pytest.fail(_private_api_changed(f"tracing run_retained_blocks failed: {error!r}"))
    library = {function.signature.name: function for function in graph.library.function}
    cases = [n for n in graph.node if n.op in ("Case", "StatelessCase")]
    assert len(cases) == 1, _private_api_changed(
        f"the traced graph has {len(cases)} Case/StatelessCase ops choosing the plan, not 1"
    )
    (choice,) = cases
    branches = [library[branch.name] for branch in choice.attr["branches"].list.func]
    assert len(branches) == 2, "one branch per plan"
    for branch in branches:
        called = [
            library[n.attr["f"].func.name]
            for n in branch.node_def
            if n.op in ("PartitionedCall", "StatefulPartitionedCall")
        ]
        assert len(called) == 1, _private_api_changed(
            f"plan branch {branch.signature.name} has {len(called)} function calls, not 1: the"
            " plan's tf.function was inlined"
        )
        assert called[0].attr["_noinline"].b, _private_api_changed(
            f"{called[0].signature.name}, a plan's function, lost its _noinline attribute"
        )


def _private_tensorflow_api(path):
    """`(function, what)` of every import of `tensorflow.python` and keyword
    `experimental_attributes` in the file; `function` is the top-level function or class it is in
    (None at module level)."""
    for top in ast.parse(path.read_text(), str(path)).body:
        function = top.name if isinstance(top, ast.FunctionDef | ast.ClassDef) else None
        for node in ast.walk(top):
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module] if isinstance(node, ast.ImportFrom) else []
                names += [alias.name for alias in node.names]
                if any(name and name.startswith("tensorflow.python") for name in names):
                    yield function, "import tensorflow.python"
            elif isinstance(node, ast.keyword) and node.arg == "experimental_attributes":
                yield function, "experimental_attributes"


def test_private_tensorflow_api_only_behind_its_three_functions():
    """Serving's `optimized_call` (tested above), the XLA cache's `align_function_names`
    (`tests/training/test_xla_cache.py` fails if a resume stops hitting the cache) and
    `tracing_under_xla` (`tests/layers/test_residual_block.py` fails if it answers wrong either
    way)."""
    package = pathlib.Path(__file__).resolve().parents[2] / "skiprec_tf"
    uses = {
        (str(path.relative_to(package)), function, what)
        for path in sorted(package.rglob("*.py"))
        for function, what in _private_tensorflow_api(path)
    }
    assert uses == {
        ("serving/skipping.py", "optimized_call", "experimental_attributes"),
        ("training/xla_cache.py", "align_function_names", "import tensorflow.python"),
        ("xla_context.py", "tracing_under_xla", "import tensorflow.python"),
    }, (
        "private TensorFlow API belongs behind optimized_call, align_function_names or tracing_under_xla"
    )
