"""Paired comparisons of two models on the same test split: the mean difference of each ranking
metric over the test sequences, with a paired bootstrap 95% confidence interval.

Test sets are small (714 sequences on ml-latest-small), so a difference is a claim only when its
interval excludes 0. With several seeds per model, each sequence's metric is first averaged over
the seeds of a model, and the bootstrap resamples sequences: the interval then holds both the
sampling of users and (in part) the training noise that the seeds average out.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from skiprec_tf.errors import ConfigError
from skiprec_tf.evaluation.metrics import METRIC_NAMES, ranking_metrics
from skiprec_tf.training.run_dir import RunDir


@dataclasses.dataclass(frozen=True)
class Difference:
    """B - A of one metric: the means, the difference, and its bootstrap 95% interval, also
    relative to A's mean."""

    metric: str
    mean_a: float
    mean_b: float
    difference: float
    low: float
    high: float

    @property
    def relative(self) -> float:
        return self.difference / self.mean_a if self.mean_a else float("nan")

    @property
    def relative_low(self) -> float:
        return self.low / self.mean_a if self.mean_a else float("nan")

    @property
    def relative_high(self) -> float:
        return self.high / self.mean_a if self.mean_a else float("nan")


def per_sequence_metrics(ranks: np.ndarray) -> dict:
    """`{metric: [n]}` of every test sequence from its target's rank (`metrics.ranking_metrics`)."""
    values = ranking_metrics(tf.constant(np.asarray(ranks, np.int32)))
    return {name: values[name].numpy().astype(np.float64) for name in METRIC_NAMES}


def paired_bootstrap(a: np.ndarray, b: np.ndarray, samples: int = 10000, seed: int = 0):
    """The mean of b - a and its percentile 95% interval over `samples` resamplings of the pairs."""
    if a.shape != b.shape or a.ndim != 1 or not len(a):
        raise ValueError(f"paired values need the same non-empty length, got {a.shape}, {b.shape}")
    differences = b - a
    rng = np.random.default_rng(seed)
    means = np.empty(samples)
    for start in range(0, samples, 1000):  # 1000 resamplings at a time bound the memory
        stop = min(start + 1000, samples)
        rows = rng.integers(0, len(differences), size=(stop - start, len(differences)))
        means[start:stop] = differences[rows].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(differences.mean()), float(low), float(high)


def compare_ranks(ranks_a, ranks_b, samples: int = 10000, seed: int = 0):
    """A `Difference` per metric between two models, each given as a list of rank arrays (one per
    seed) over the same test sequences; the metrics are averaged over the seeds per sequence."""
    a = _seed_mean([per_sequence_metrics(r) for r in ranks_a])
    b = _seed_mean([per_sequence_metrics(r) for r in ranks_b])
    differences = []
    for metric in METRIC_NAMES:
        difference, low, high = paired_bootstrap(a[metric], b[metric], samples, seed)
        differences.append(
            Difference(metric, a[metric].mean(), b[metric].mean(), difference, low, high)
        )
    return differences


def _seed_mean(per_seed):
    return {name: np.mean([metrics[name] for metrics in per_seed], axis=0) for name in METRIC_NAMES}


def load_ranks(spec: str, split=None):
    """(rank arrays, one per seed, and the test split's fingerprint) of a model given as
    `RUN[,RUN...]` (one run directory per seed) or `RUN[,RUN...]:BASELINE` (the ranks of a baseline,
    `most_popular` or `markov_chain`, that those runs saved). Every run must be on `split` (when
    given) and on one split with the others."""
    runs, _, name = spec.partition(":")
    name = name or "model"
    ranks = []
    for path in runs.split(","):
        saved, fingerprint = RunDir(path).read_test_ranks()
        if name not in saved:
            raise ConfigError(f"{path}: no ranks of {name!r} (it has {', '.join(sorted(saved))})")
        if split is not None and fingerprint != split:
            raise ConfigError(
                f"{path} was tested on another split than the runs before it: paired comparisons "
                "need the same test sequences (the same data options and --split_seed)"
            )
        split = fingerprint
        ranks.append(saved[name])
    return ranks, split


def format_differences(name_a: str, name_b: str, differences) -> str:
    """One line per metric: both means, B - A, and its 95% interval, absolute and relative."""
    lines = [
        f"{name_b}  against  {name_a}",
        f"{'metric':<10}{'A':>9}{'B':>9}{'B - A':>10}{'95% CI':>22}{'relative':>10}{'95% CI':>20}",
    ]
    for d in differences:
        label = d.metric.upper().replace("_AT_", "@")
        lines.append(
            f"{label:<10}{d.mean_a:>9.4f}{d.mean_b:>9.4f}{d.difference:>+10.4f}"
            f"{f'[{d.low:+.4f}, {d.high:+.4f}]':>22}{d.relative:>+10.1%}"
            f"{f'[{d.relative_low:+.1%}, {d.relative_high:+.1%}]':>20}"
        )
    return "\n".join(lines)
