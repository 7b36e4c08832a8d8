"""Paired comparisons: the bootstrap interval and the differences of hand-made rank files."""

import numpy as np
import pytest

from skiprec_tf.errors import ConfigError
from skiprec_tf.evaluation.compare import compare_ranks, load_ranks, paired_bootstrap
from skiprec_tf.training.run_dir import RunDir

TEST = np.arange(40, dtype=np.int32).reshape(10, 4)  # a stand-in test split


def test_a_constant_difference_has_no_spread():
    assert paired_bootstrap(np.zeros(50), np.ones(50)) == (1.0, 1.0, 1.0)


def test_the_interval_of_a_known_spread():
    # Differences 0 and 2, 200 each: mean 1, standard deviation 1, so the 95% interval of the
    # mean is about 1 +- 1.96 / sqrt(400) = 1 +- 0.098.
    b = np.tile([0.0, 2.0], 200)
    mean, low, high = paired_bootstrap(np.zeros(400), b, samples=20000, seed=1)
    assert mean == 1.0
    assert low == pytest.approx(1 - 0.098, abs=0.01) and high == pytest.approx(1 + 0.098, abs=0.01)


def test_differences_of_hand_made_ranks():
    a = np.array([1, 2, 10, 30])  # MRR@5: 1, 1/2, 0, 0 -> 0.375; HR@20: 1, 1, 1, 0
    b = np.array([1, 1, 10, 4])  # MRR@5: 1, 1, 0, 1/4 -> 0.5625; HR@20: 1, 1, 1, 1
    differences = {d.metric: d for d in compare_ranks([a], [b], samples=2000)}
    assert differences["mrr_at_5"].difference == pytest.approx(0.1875)
    assert differences["mrr_at_5"].relative == pytest.approx(0.5)
    assert differences["hr_at_20"].difference == pytest.approx(0.25)
    # Resampling 4 pairs whose differences are 0, 0.5, 0, 0.25: every mean lies in [0, 0.5].
    mrr = differences["mrr_at_5"]
    assert 0.0 <= mrr.low < mrr.difference < mrr.high <= 0.5


def test_seeds_are_averaged_per_sequence_before_the_bootstrap():
    a = [np.array([1, 1]), np.array([2, 2])]  # MRR@5 per sequence: mean of 1 and 1/2 = 0.75
    b = [np.array([1, 2])]  # 1 and 1/2
    (mrr_at_5, *_) = compare_ranks(a, b, samples=500)
    assert (mrr_at_5.mean_a, mrr_at_5.mean_b, mrr_at_5.difference) == (0.75, 0.75, 0.0)


def _run(tmp_path, name, ranks, test=TEST):
    run = RunDir(tmp_path / name)
    (tmp_path / name).mkdir()
    run.write_test_ranks({"model": np.asarray(ranks), "markov_chain": np.full(len(test), 3)}, test)
    return run.path


def test_load_ranks_of_seeds_and_baselines_on_one_split(tmp_path):
    first, second = _run(tmp_path, "a", [1] * 10), _run(tmp_path, "b", [2] * 10)
    ranks, split = load_ranks(f"{first},{second}")
    assert [r[0] for r in ranks] == [1, 2]
    (markov,), same = load_ranks(f"{first}:markov_chain", split)
    assert same == split and markov[0] == 3
    other = _run(tmp_path, "other", [1] * 10, test=TEST + 1)
    with pytest.raises(ConfigError, match="another split"):
        load_ranks(other, split)
    with pytest.raises(ConfigError, match="no ranks of 'random'"):
        load_ranks(f"{first}:random")
