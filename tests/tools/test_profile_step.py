"""tools/profile_step.py on a tiny synthetic backbone: it times the step and each of its parts in
turns and prints their shares; a SkipRec flagfile is refused."""

import re

import pytest
from tools_testing import run_tool

_TINY = ["--data_format=synthetic", "--synthetic_users=300", "--synthetic_items=30", "--seq_len=10",
         "--embedding_dim=8", "--num_blocks=2", "--batch_size=64", "--cache_dir="]  # fmt: skip


@pytest.mark.slow
def test_profile_step_prints_every_part_and_its_share_of_the_step():
    result = run_tool("profile_step.py", *_TINY, "--threads=1", "--rounds=2", "--steps=2")
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "model=nextitnet_plus d=8 blocks=2 t=10 V=30 batch=64 jit_compile=False" in out
    parts = dict(
        re.findall(r"^\s*(\w+): +[\d.]+ ms \(median\), +([\d.]+)% of the step", out, re.MULTILINE)
    )
    assert list(parts) == [
        "step", "forward", "gradients", "blocks", "softmax", "optimizer", "input"
    ], out  # fmt: skip
    assert float(parts["step"]) == 100.0
    assert all(float(share) > 0 for name, share in parts.items() if name != "input")


@pytest.mark.slow
def test_profile_step_refuses_skiprec():
    result = run_tool("profile_step.py", *_TINY, "--model=skiprec_rl")
    assert result.returncode != 0
    assert "--model must be a backbone, got skiprec_rl" in result.stderr
