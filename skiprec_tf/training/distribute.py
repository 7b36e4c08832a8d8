"""Training under `tf.distribute`: the strategy of a run, means over the global batch, the chief.

With N replicas each replica computes the loss of its share of the global batch and the optimizer
sums the replicas' gradients. A replica's loss is therefore its share of the global mean (its sum
over the global count, `global_mean`), so that the summed gradient is that of the global batch's
mean loss, as one process with the same global batch computes it.
"""

import tensorflow as tf

from skiprec_tf.config import STRATEGIES


def make_strategy(kind: str) -> tf.distribute.Strategy:
    """`default`: one device; `mirrored`: every local device (`MirroredStrategy`);
    `multi_worker`: `MultiWorkerMirroredStrategy`, its cluster given by `TF_CONFIG`."""
    if kind == "default":
        return tf.distribute.get_strategy()
    if kind == "mirrored":
        return tf.distribute.MirroredStrategy()
    if kind == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {kind!r}; known: {', '.join(STRATEGIES)}")


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run: the chief of a cluster (worker 0 when there is no
    `chief` task), or the only process."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    if resolver.task_type == "chief":
        return True
    return not has_chief and resolver.task_type == "worker" and resolver.task_id == 0


def replica_sum(value):
    """The sum of `value` over the replicas (`value` itself with one replica)."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def global_mean(values, weights=None):
    """This replica's share of the weighted mean of `values` over the global batch:
    sum(values * weights) here, over sum(weights) on every replica (at least 1)."""
    values = tf.cast(values, tf.float32)
    weights = tf.ones_like(values) if weights is None else tf.cast(weights, tf.float32)
    total = replica_sum(tf.reduce_sum(weights))
    return tf.reduce_sum(values * weights) / tf.maximum(total, 1.0)


def step_logs(logs: dict) -> dict:
    """A train or test step's logs for Keras' `fit`: scalars, made `[1]` across several workers
    (Keras 3 reduces a multi-worker step's logs with `strategy.reduce("MEAN", axis=0)`, which
    needs an axis, and then gives scalars again)."""
    if not _multi_worker(tf.distribute.get_strategy()):
        return logs
    return {name: tf.reshape(value, [1]) for name, value in logs.items()}


def _multi_worker(strategy) -> bool:
    resolver = getattr(strategy, "cluster_resolver", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
        return False
    return sum(len(tasks) for tasks in resolver.cluster_spec().as_dict().values()) > 1
