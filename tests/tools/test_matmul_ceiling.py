"""tools/peers/matmul_ceiling.py: the products of a training step (`training_step_products`)
are the forward FLOPs that `evaluation.flops` counts, three times over (forward, input
gradient, kernel gradient)."""

import json
import pathlib
import subprocess
import sys

import pytest

from skiprec_tf.evaluation.flops import block_flops, output_flops, training_step_products

_TOOL = pathlib.Path(__file__).resolve().parents[2] / "tools" / "peers" / "matmul_ceiling.py"


def _flops(products):
    return sum(2 * m * k * n * count for m, k, n, _, _, count in products)


def test_step_products_are_three_times_the_forward_flops_of_the_counter():
    batch, seq_len, d, k, blocks, items = 16, 9, 12, 3, 5, 40
    products = training_step_products(batch * seq_len, d, k, blocks, items + 1)
    forward = [p for p in products if not (p[3] or p[4])]
    elementwise = 10 * seq_len * d  # block_flops' layer norms, ReLUs and residual sum
    per_sequence = blocks * (block_flops(seq_len, d, k) - elementwise) + seq_len * output_flops(
        d, items
    )
    assert _flops(forward) == batch * per_sequence
    assert _flops(products) == 3 * _flops(forward)
    # Each gradient product has its forward product's FLOPs, and the counts of the step.
    assert sorted(p[5] for p in products) == [1, 1, 1, 2 * blocks, 2 * blocks, 2 * blocks]


@pytest.mark.slow  # a fresh process that imports TensorFlow
def test_prints_a_positive_ceiling():
    result = subprocess.run(
        [sys.executable, str(_TOOL), "--num_items=30", "--embedding_dim=8", "--num_blocks=2",
         "--seq_len=6", "--batch_size=16", "--repeats=2"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.splitlines()[-1])
    assert figures["seq_per_s"] > 0 and figures["gflop_per_s"] > 0
    expected = 3 * 16 * 5 * (2 * (2 * 3 * 8 * 8) * 2 + 2 * 8 * 31) / 1e9
    assert abs(figures["gflop"] - expected) < 1e-12
