"""SavedModel export for TF Serving: raw item ids in, top-k raw item ids out, skipped blocks not run."""

import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from skiprec_tf.errors import ConfigError
from skiprec_tf.models import SkipRec
from skiprec_tf.models.backbone import ResidualRecommender, embed_items
from skiprec_tf.models.policy import RETAIN, SKIP, greedy_retain
from skiprec_tf.serving.budget import cap_blocks
from skiprec_tf.serving.skipping import optimized_call, run_retained_blocks
from skiprec_tf.serving.stacked_blocks import stack_blocks
from skiprec_tf.serving.warmup import warmup_requests, write_warmup_requests


def right_align(item_ids, length: int):
    """Keeps the last `length` real items of every row, left-padded with 0.

    Padding (0) anywhere in a row, e.g. a right-padded batch of histories of different lengths,
    moves to the left; the real items keep their order.
    """
    unknown_first = tf.argsort(tf.cast(item_ids > 0, tf.int32), axis=1, stable=True)
    aligned = tf.gather(item_ids, unknown_first, batch_dims=1)
    aligned = tf.pad(aligned, [[0, 0], [tf.maximum(length - tf.shape(aligned)[1], 0), 0]])
    aligned = aligned[:, -length:]
    aligned.set_shape([None, length])  # a static length: the blocks' tap positions are constants
    return aligned


# Of any rank and not inlined: inlined into a signature whose `item_ids` is `[None, None]`, the
# rank would be folded to 2 and the check dropped.
_rank = optimized_call(tf.rank, input_signature=[tf.TensorSpec(None, tf.int64)])


def checked_request(item_ids, k):
    """`item_ids` and `k` after the request's checks, which a client sees as INVALID_ARGUMENT
    errors naming the input: `item_ids` must be `[batch, length]` (a signature's shape is not
    checked at run time: a 1-D request would fail deep in `right_align`) and `k` at least 1."""
    checks = [
        tf.debugging.assert_equal(
            _rank(item_ids),
            2,
            message="item_ids must be [batch, length] (one row of raw item ids per user, even "
            "for one user: [[1, 2, 3]])",
        ),
        tf.debugging.assert_greater_equal(k, 1, message="k must be at least 1"),
    ]
    with tf.control_dependencies(checks):
        # EnsureShape is checked at run time whatever grappler does to the rank check.
        return tf.ensure_shape(item_ids, [None, None]), tf.identity(k)


def history_mask(internal_ids, num_items: int):
    """`[batch, num_items + 1]` True at the (internal) ids of each row's history, any length."""
    batch, length = tf.shape(internal_ids)[0], tf.shape(internal_ids)[1]
    rows = tf.repeat(tf.range(batch), length)
    indices = tf.stack([rows, tf.reshape(internal_ids, [-1])], axis=1)
    counts = tf.scatter_nd(indices, tf.ones([batch * length], tf.int32), [batch, num_items + 1])
    return counts > 0


class RecommenderServing(tf.Module):
    """Inference only: the trained layers (not the training model), the raw <-> internal item id
    tables, and the `serving_default`, `recommend_k` and `recommend_budget` signatures.

    A request is int64 raw item ids `[batch, any length]` (most recent last; unknown ids and 0
    count as padding); the response the top-k raw item ids, their scores, the number of blocks
    each user ran, and `history_length`, the number of known items in the input window (0: no
    known history, the model's answer to an empty window, the same for every such row). `k` must
    be at least 1; a `k` larger than the catalogue gives the whole catalogue. With a SkipRec model
    the greedy policy decides the blocks and a skipped block is not computed
    (`run_retained_blocks`); with a backbone alone (NextItNet+, SASRec+) every block runs.
    `recommend_budget` also takes `max_blocks` (int32, a scalar or one per row), the most blocks
    a user may run (`cap_blocks`); a backbone then runs its first ones.

    `fixed_blocks` (indices) serves a static sub-network instead: every user runs those blocks
    and no other, whatever the policy; with the blocks a SkipRec's most common policy retains, or
    a backbone's first k, it is the static competitor of the same cost as an adaptive model.

    `exclude_history` never recommends an item of the request (any known id of the row, not only
    the window); False, the paper's protocol, ranks every item. A row with fewer than k items
    left gets them all, then raw id 0 with the lowest float32 score in the remaining slots.
    """

    def __init__(
        self,
        model,
        item_ids: np.ndarray,
        input_length: int,
        top_k: int = 10,
        fixed_blocks=None,
        exclude_history: bool = False,
    ):
        super().__init__(name="recommender")
        if top_k < 1:
            raise ConfigError(f"top_k={top_k}: recommend at least 1 item")
        if not isinstance(model, ResidualRecommender):
            raise ConfigError(
                f"{model.name} is a baseline of the paper's Table 2, compared in its run's "
                "metrics, not served: the export serves NextItNet(+), SASRec+ and SkipRec"
            )
        adaptive = isinstance(model, SkipRec) and fixed_blocks is None
        if adaptive and not model.policy.deterministic:
            raise ConfigError("the random policy is an ablation and is not exported")
        self.item_embedding = model.item_embedding
        self.position_embedding = model.position_embedding
        self.residual_blocks = stack_blocks(model.residual_blocks)
        self.final_norm = model.final_norm
        self.output_layer = model.output_layer
        self.policy = model.policy if adaptive else None
        num_blocks = len(model.residual_blocks)
        self.served = tuple(range(num_blocks) if fixed_blocks is None else sorted(fixed_blocks))
        if not set(self.served) <= set(range(num_blocks)):
            raise ConfigError(f"fixed_blocks {fixed_blocks}: the blocks are 0..{num_blocks - 1}")
        self.input_length = input_length
        self.num_items = len(item_ids) - 1
        self.top_k = min(top_k, self.num_items)
        self.exclude_history = bool(exclude_history)
        self.raw_ids = tf.constant(item_ids, tf.int64)
        self.to_internal = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(item_ids[1:], tf.int64), tf.range(1, self.num_items + 1, dtype=tf.int32)
            ),
            default_value=0,
        )

    # autograph=False: the serving code has no tensor-dependent Python control flow, and tracing
    # it as written does not depend on reading the source files again.
    @tf.function(
        input_signature=[tf.TensorSpec([None, None], tf.int64, name="item_ids")], autograph=False
    )
    def serve(self, item_ids):
        return self.recommend(item_ids, tf.constant(self.top_k))

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None], tf.int64, name="item_ids"),
            tf.TensorSpec([], tf.int32, name="k"),
        ],
        autograph=False,
    )
    def serve_k(self, item_ids, k):
        return self.recommend(item_ids, k)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None], tf.int64, name="item_ids"),
            tf.TensorSpec([], tf.int32, name="k"),
            tf.TensorSpec(None, tf.int32, name="max_blocks"),  # a scalar or [batch]
        ],
        autograph=False,
    )
    def serve_budget(self, item_ids, k, max_blocks):
        return self.recommend(item_ids, k, max_blocks)

    @tf.function(input_signature=[], autograph=False)
    def info(self):
        """The `serving_info` signature: how the export ranks (no inputs)."""
        return {
            "exclude_history": tf.constant(self.exclude_history),
            "top_k": tf.constant(self.top_k),
            "input_length": tf.constant(self.input_length),
            "num_items": tf.constant(self.num_items),
        }

    def actions(self, inputs, max_blocks=None):
        """The greedy policy's decisions `[batch, N]` (without a policy: 1 for the served blocks,
        every block of a backbone), at most `max_blocks` per row if given (`cap_blocks`)."""
        batch, num_blocks = tf.shape(inputs)[0], len(self.residual_blocks)
        if self.policy is None:
            served = np.isin(np.arange(num_blocks), self.served).astype(np.float32)
            actions = tf.tile(tf.constant(served)[None], [batch, 1])
            retain_margin = tf.zeros([batch, num_blocks])
        else:
            logits = self.policy(inputs)
            actions = greedy_retain(logits)
            retain_margin = logits[..., RETAIN] - logits[..., SKIP]
        if max_blocks is None:
            return actions
        return cap_blocks(actions, retain_margin, max_blocks)

    def scores(self, inputs, max_blocks=None):
        """Scores `[batch, V]` of items 1..V, and the actions, of internal-id inputs."""
        actions = self.actions(inputs, max_blocks)
        hidden = embed_items(self.item_embedding, self.position_embedding, inputs)
        static = self.policy is None and max_blocks is None  # the same blocks for all
        hidden = self.run_blocks(hidden, actions, inputs == 0, static)[:, -1]
        if self.final_norm is not None:
            hidden = self.final_norm(hidden)
        return self.output_layer(hidden)[:, 1:], actions

    def run_blocks(self, hidden, actions, padding_mask, static: bool = False):
        """E_N from E_0: the retained blocks only (Eq. 5), or the served blocks (`static`)."""
        block = self.residual_blocks.read()
        if static:  # every served block, in order: a static network's fastest plan
            for l in self.served:
                hidden = block(l, hidden, padding_mask)
            return hidden
        if not self.residual_blocks.reads_padding:
            padding_mask = None  # no rows of it to gather for blocks that do not read it
        return run_retained_blocks(hidden, actions, block, padding_mask)

    def recommend(self, item_ids, k, max_blocks=None):
        item_ids, k = checked_request(item_ids, k)
        internal = self.to_internal.lookup(item_ids)
        inputs = right_align(internal, self.input_length)
        scores, actions = self.scores(inputs, max_blocks)
        if self.exclude_history:
            excluded = history_mask(internal, self.num_items)[:, 1:]
            scores = tf.where(excluded, scores.dtype.min, scores)
        top = tf.math.top_k(scores, tf.minimum(k, self.num_items))
        raw_ids = tf.gather(self.raw_ids, top.indices + 1)
        if self.exclude_history:  # fewer items than k left: 0, not a history item
            raw_ids = tf.where(
                tf.gather(excluded, top.indices, batch_dims=1), tf.constant(0, tf.int64), raw_ids
            )
        return {
            "item_ids": raw_ids,
            "scores": top.values,
            "blocks_used": tf.cast(tf.reduce_sum(actions, axis=1), tf.int32),
            "history_length": tf.reduce_sum(tf.cast(inputs > 0, tf.int32), axis=1),
        }


def export_saved_model(module: RecommenderServing, export_dir: str, model_name: str, version=None):
    """Writes `<export_dir>/<model_name>/<version>/` (TF Serving's layout) with its warm-up
    requests, atomically: into a hidden temporary directory beside it (TF Serving ignores
    non-numeric names), then renamed. `version` defaults to one more than the highest present.
    Returns the version directory."""
    base = os.path.join(export_dir, model_name)
    os.makedirs(base, exist_ok=True)
    if version is None:
        present = [int(name) for name in os.listdir(base) if name.isdigit()]
        version = max(present, default=0) + 1
    final = os.path.join(base, str(version))
    if os.path.exists(final):
        raise ConfigError(f"--export_dir: {final} already exists; choose another --export_version")
    # Track the tf.Variables the signatures capture. Keras 3 layers alone are not enough: their
    # variables would load in TF 2 Python, but TF Serving's session-based loader (and
    # `saved_model_cli run`) would not find them ("Could not find variable ...").
    signatures = {
        "serving_default": module.serve,
        "recommend_k": module.serve_k,
        "recommend_budget": module.serve_budget,
        "serving_info": module.info,
    }
    module.served_variables = list(
        {
            id(variable): variable
            for function in signatures.values()
            for variable in function.get_concrete_function().variables
        }.values()
    )
    staging = tempfile.mkdtemp(dir=base, prefix=f".{version}-incomplete-")
    try:
        tf.saved_model.save(module, staging, signatures=signatures)
        requests = warmup_requests(
            module.raw_ids.numpy(), module.input_length, module.top_k, len(module.residual_blocks)
        )
        write_warmup_requests(staging, model_name, requests)
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final  # main prints where it went
