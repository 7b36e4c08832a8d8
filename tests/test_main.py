"""The command line: bad input stops with one clear line and a non-zero exit, no traceback."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _main(*args, cwd):
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", "skiprec_tf.main", "--cache_dir=", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        check=False,  # the tests read the exit code
        text=True,
        timeout=300,
    )


def _ratings(tmp_path, lines):
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating,timestamp\n" + "".join(f"{line}\n" for line in lines))
    return str(path)


def _flagfile(tmp_path, line):
    path = tmp_path / "run.cfg"
    path.write_text(f"--seq_len=10\n{line}\n")
    return str(path)


def _few_users(tmp_path):
    return _ratings(tmp_path, [f"{u},{i},4.0,{i}" for u in range(1, 4) for i in range(1, 8)])


@pytest.mark.parametrize(
    "args, message",
    [
        (
            lambda p: ["--data_format=movielens_csv", f"--data_path={p}/nowhere.csv"],
            "nowhere.csv: no such file",
        ),
        (
            lambda p: [f"--flagfile={ROOT}/flags/ml20_rl.cfg"],
            (
                "data/ml-20m/ratings.csv: no such file; download it with "
                "`python tools/download_data.py ml-20m --data_dir=data`"
            ),
        ),
        (
            lambda p: [
                "--data_format=movielens_csv",
                f"--data_path={_ratings(p, ['1,2,4.0,10', '1,x,3.0,11'])}",
            ],
            "ratings.csv:3",
        ),
        (
            lambda p: ["--data_format=movielens_csv", f"--data_path={_few_users(p)}"],
            "min_user_items=10",
        ),
        (lambda p: [f"--flagfile={_flagfile(p, '--num_block=4')}"], "num_blocks ? (in "),
        (lambda p: ["--seq_len=1"], "--seq_len"),
        (lambda p: ["--dropout=-0.1"], "--dropout must be in [0, 1), got -0.1"),
        (lambda p: ["--num_blocks=0"], "--num_blocks must be a positive integer, got 0"),
        (lambda p: ["--split=0.5,0.4"], "--split"),
        (lambda p: ["--block_dilations=1,x"], "--block_dilations"),
        (lambda p: ["--softmax=hierarchical"], "--softmax"),
        (lambda p: ["--data_format=movielens_csv"], "--data_path"),
    ],
    ids=[
        "missing",
        "missing_ml20m",
        "malformed",
        "empty_after_filter",
        "flagfile_typo",
        "seq_len",
        "dropout",
        "blocks",
        "split",
        "dilations",
        "enum",
        "no_path",
    ],
)
def test_bad_input_is_one_clear_error(tmp_path, args, message):
    result = _main(*args(tmp_path), f"--run_dir={tmp_path}/run", cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "run").exists(), "a failed start leaves no run directory"


def test_helpshort_lists_the_config_flags(tmp_path):
    result = _main("--helpshort", cwd=tmp_path)
    for flag in ("--mode", "--seq_len", "--embedding_dim", "--reward_top_k", "--batch_size"):
        assert flag in result.stdout, flag
