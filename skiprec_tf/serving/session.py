"""A SavedModel served as TF Serving's model server serves it: loaded into a TF session, each
request one run of a signature. For the benchmarks and the tests; serving an export needs nothing
of this package."""

import numpy as np
import tensorflow as tf


def serving_threads(inter_op_threads: int):
    """TF Serving's `--tensorflow_inter_op_parallelism` for this process: set for its eager
    and graph functions, and returned as the ConfigProto a `SessionServable` takes."""
    tf.config.threading.set_inter_op_parallelism_threads(inter_op_threads)
    return tf.compat.v1.ConfigProto(inter_op_parallelism_threads=inter_op_threads)


class SessionServable:
    """The export at `path` in a session of its own (`session_config`: its thread pools)."""

    def __init__(self, path: str, session_config=None):
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.session = tf.compat.v1.Session(graph=self.graph, config=session_config)
            loaded = tf.compat.v1.saved_model.loader.load(self.session, ["serve"], path)
        self.signatures = loaded.signature_def

    def run(self, signature_name: str, inputs: dict) -> dict:
        """One request: `{input name: array}` -> `{output name: array}`."""
        signature = self.signatures[signature_name]
        feeds = {signature.inputs[key].name: value for key, value in inputs.items()}
        return self.session.run({key: t.name for key, t in signature.outputs.items()}, feeds)

    def top_k(self, k: int = 10, max_blocks: int | None = None):
        """`recommend_k` of a batch of raw item ids with `k` fixed, as a callable; with
        `max_blocks`, `recommend_budget` under that cap."""
        if max_blocks is None:
            return lambda batch: self.run("recommend_k", {"item_ids": batch, "k": np.int32(k)})
        budget = {"k": np.int32(k), "max_blocks": np.int32(max_blocks)}
        return lambda batch: self.run("recommend_budget", {"item_ids": batch, **budget})

    def item_ids_callable(self, signature_name: str = "serving_default"):
        """`run` of a signature whose one input is `item_ids`, as a callable from the item ids,
        with less Python per request (`Session.make_callable`) for timed loops."""
        signature = self.signatures[signature_name]
        names = sorted(signature.outputs)
        with self.graph.as_default():
            run = self.session.make_callable(
                [signature.outputs[name].name for name in names],
                [signature.inputs["item_ids"].name],
            )
        return lambda batch: dict(zip(names, run(batch)))
