"""XLA's persistent compilation cache: a --jit_compile run keeps its compiled programs in the run's
xla_cache/, and its --resume loads them instead of compiling any again."""

import os
import subprocess
import sys

import pytest

from skiprec_tf.training.xla_cache import keep_compiled_programs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = (
    "--cache_dir=", "--synthetic_users=300", "--synthetic_items=30", "--seq_len=10",
    "--embedding_dim=8", "--num_blocks=2", "--batch_size=64", "--jit_compile",
)  # fmt: skip


def _train(*args):
    result = subprocess.run(
        [sys.executable, "-m", "skiprec_tf.main", *TINY, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT, "TF_XLA_FLAGS": ""},
        capture_output=True,
        check=False,  # the assertion shows the run's output
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow
def test_a_resumed_run_compiles_nothing_again(tmp_path):
    run_dir = tmp_path / "run"
    _train(f"--run_dir={run_dir}", "--epochs=1")
    cache = run_dir / "xla_cache"
    programs = {path.name: path.stat().st_mtime for path in cache.iterdir()}
    assert programs, "the run kept no compiled program"
    _train(f"--run_dir={run_dir}", "--resume", "--epochs=2")  # trains, validates and tests again
    assert {path.name: path.stat().st_mtime for path in cache.iterdir()} == programs


@pytest.mark.slow
def test_an_empty_xla_cache_dir_keeps_nothing(tmp_path):
    run_dir = tmp_path / "run"
    _train(f"--run_dir={run_dir}", "--epochs=1", "--xla_cache_dir=")
    assert not (run_dir / "xla_cache").exists()


def test_a_cache_directory_already_in_tf_xla_flags_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_XLA_FLAGS", "--tf_xla_auto_jit=0 --tf_xla_persistent_cache_directory=/c")
    assert keep_compiled_programs(str(tmp_path / "mine")) == "/c"
    assert os.environ["TF_XLA_FLAGS"].count("persistent_cache") == 1


def test_the_cache_directory_joins_the_other_xla_flags(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_XLA_FLAGS", "--tf_xla_auto_jit=0")
    assert keep_compiled_programs(str(tmp_path / "mine")) == str(tmp_path / "mine")
    assert os.environ["TF_XLA_FLAGS"] == (
        f"--tf_xla_auto_jit=0 --tf_xla_persistent_cache_directory={tmp_path / 'mine'}"
    )
