"""The command line: bad input stops with one clear line and a non-zero exit, no traceback."""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from absl import flags
from absl.testing import flagsaver

from skiprec_tf import config_flags, main
from skiprec_tf.config import RESUMABLE, DataConfig, ModelConfig, RunConfig
from skiprec_tf.errors import ConfigError, SkipRecError
from skiprec_tf.training.run_dir import RunDir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# A run of a few seconds: 300 synthetic users, 2 blocks of 8 channels.
TINY = (
    "--cache_dir=",
    "--synthetic_users=300",
    "--synthetic_items=30",
    "--seq_len=10",
    "--embedding_dim=8",
    "--num_blocks=2",
    "--batch_size=64",
)


def _env():
    """The environment of a subprocess: this worktree's package, TensorFlow's own settings."""
    env = {**os.environ, "PYTHONPATH": ROOT}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return env


def _main(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "skiprec_tf.main", "--cache_dir=", *args],
        cwd=cwd,
        env=_env(),
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


# The data errors need TensorFlow's import in the fresh process (about 6 s each): the malformed
# file stays in the first tier, the others are in the second.
LOADS_DATA = pytest.mark.slow


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param(
            lambda p: ["--data_format=movielens_csv", f"--data_path={p}/nowhere.csv"],
            "nowhere.csv: no such file",
            marks=LOADS_DATA,
        ),
        pytest.param(
            lambda p: [f"--flagfile={ROOT}/flags/ml20_rl.cfg"],
            (
                "data/ml-20m/ratings.csv: no such file; download it with "
                "`python tools/download_data.py ml-20m --data_dir=data`"
            ),
            marks=LOADS_DATA,
        ),
        (
            lambda p: [
                "--data_format=movielens_csv",
                f"--data_path={_ratings(p, ['1,2,4.0,10', '1,x,3.0,11'])}",
            ],
            "ratings.csv:3",
        ),
        pytest.param(
            lambda p: ["--data_format=movielens_csv", f"--data_path={_few_users(p)}"],
            "min_user_items=10",
            marks=LOADS_DATA,
        ),
        (lambda p: [f"--flagfile={_flagfile(p, '--num_block=4')}"], "num_blocks ? (in "),
        (lambda p: ["--seq_len=1"], "--seq_len"),
        (lambda p: ["--dropout=-0.1"], "--dropout must be in [0, 1), got -0.1"),
        (lambda p: ["--num_blocks=0"], "--num_blocks must be a positive integer, got 0"),
        (lambda p: ["--split=0.5,0.4"], "--split"),
        (lambda p: ["--block_dilations=1,x"], "--block_dilations"),
        (lambda p: ["--softmax=hierarchical"], "--softmax"),
        (lambda p: ["--data_format=movielens_csv"], "--data_path"),
        (
            lambda p: [f"--flagfile={ROOT}/flags/ml20_rl.cfg", "--epochs=2"],
            "--warmup_epochs=2 and --curriculum_epochs=0 take 2 of the 2 --epochs",
        ),
        (
            lambda p: ["--model=skiprec_gumbel", "--curriculum_epochs=3", "--epochs=3"],
            "the policy would never train and every user would get every block",
        ),
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
        "warmup_takes_every_epoch",
        "curriculum_takes_every_epoch",
    ],
)
def test_bad_input_is_one_clear_error(tmp_path, args, message):
    result = _main(*args(tmp_path), f"--run_dir={tmp_path}/run", cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count(message) == 1, "one error line, no log line repeating it"
    assert sum("error" in line.lower() for line in result.stderr.splitlines()) == 1, result.stderr
    assert not (tmp_path / "run").exists(), "a failed start leaves no run directory"


def test_helpshort_lists_the_config_flags(tmp_path):
    result = _main("--helpshort", cwd=tmp_path)
    assert result.returncode == 0, "help asked for is not an error"
    for flag in ("--mode", "--seq_len", "--embedding_dim", "--reward_top_k", "--batch_size"):
        assert flag in result.stdout, flag
    resume_help = result.stdout.split("--[no]resume:")[1].split("(default")[0]
    for name in sorted(RESUMABLE):
        assert f"--{name}" in resume_help, (name, resume_help)


def test_a_positional_argument_is_one_error_line(tmp_path):
    result = _main("train", "--epochs=1", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: unexpected arguments: train (flags start with --; pass --helpshort to see them)"
    ]
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args", [["--batch_size=0"], [f"--flagfile={ROOT}/flags/ml20_rl.cfg", "--epochs=1"]]
)
def test_a_bad_setting_fails_before_tensorflow_loads(tmp_path, args):
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "skiprec_tf.main", *args],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "error: --" in result.stderr
    imported = [line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    assert "skiprec_tf.config" in imported, "importtime's lines are read"
    assert "tensorflow" not in imported


def _train(*args):
    """`main.train` of the command line `args`, in this process."""
    with flagsaver.flagsaver():
        flags.FLAGS.unparse_flags()
        flags.FLAGS(["main", *args])
        return main.train()


def _hashes(directory):
    """`{path: sha256}` of every file under `directory`."""
    return {
        os.path.relpath(os.path.join(root, name), directory): hashlib.sha256(
            open(os.path.join(root, name), "rb").read()
        ).hexdigest()
        for root, _, names in os.walk(directory)
        for name in names
    }


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    _train(f"--run_dir={run_dir}", "--epochs=1", "--learning_rate=0.002", *TINY)
    return run_dir


@pytest.mark.parametrize(
    "args, message",
    [
        (["--epochs=2"], "already holds a run: pass --resume to continue it, --overwrite"),
        (
            ["--resume", "--seq_len=11", "--learning_rate=0.01", "--epochs=2"],
            "--seq_len=11 (the run's: 10); --learning_rate=0.01 (the run's: 0.002)",
        ),
        (["--resume", "--overwrite"], "--overwrite replaces it"),
        (["--resume", "--data_format=movielens_csv"], "--data_format=movielens_csv"),
        (
            ["--overwrite", "--data_format=movielens_csv", "--data_path=nowhere.csv"],
            "nowhere.csv: no such file",
        ),
    ],
    ids=["no_resume", "other_settings", "resume_and_overwrite", "other_data", "overwrite_bad_data"],
)
def test_a_refused_command_leaves_the_run_unchanged(finished_run, args, message):
    before = _hashes(finished_run)
    with pytest.raises(SkipRecError) as error:
        _train(f"--run_dir={finished_run}", *TINY, *args)
    assert message in str(error.value)
    assert _hashes(finished_run) == before


def test_resume_needs_a_run(tmp_path):
    with pytest.raises(ConfigError, match="typo does not exist, there is no run to continue"):
        _train(f"--run_dir={tmp_path}/typo", "--resume", *TINY)
    assert not (tmp_path / "typo").exists()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="other has no config.json"):
        _train(f"--run_dir={tmp_path}/other", "--resume")
    assert os.listdir(tmp_path / "other") == ["notes.txt"]
    with pytest.raises(ConfigError, match="--resume needs --run_dir"):
        _train("--resume")


def test_resume_alone_continues_with_the_runs_settings(finished_run, tmp_path):
    run_dir = shutil.copytree(finished_run, tmp_path / "run")
    flags_cfg = (run_dir / "flags.cfg").read_text()
    _train(f"--run_dir={run_dir}", "--resume", "--epochs=2")
    config = RunConfig.from_json((run_dir / "config.json").read_text())
    assert config.model.embedding_dim == 8 and config.train.learning_rate == 0.002
    assert config.train.epochs == 2
    history = (run_dir / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in history] == ["epoch", "1", "2"]
    # flags.cfg: the settings alone (no --resume, --run_dir or absl's own flags), the new epochs.
    assert (run_dir / "flags.cfg").read_text() == config_flags.flagfile_text(config)
    assert flags_cfg.replace("--epochs=1", "--epochs=2") == config_flags.flagfile_text(config)
    flags_set = {line.split("=")[0] for line in flags_cfg.splitlines() if line.startswith("--")}
    for flag in ("resume", "run_dir", "help", "stderrthreshold", "verbosity", "flagfile"):
        assert not {f"--{flag}", f"--no{flag}"} & flags_set, flag


def test_overwrite_replaces_a_run_and_keeps_other_files(finished_run, tmp_path, caplog):
    run_dir = shutil.copytree(finished_run, tmp_path / "run")
    (run_dir / "notes.txt").write_text("mine")
    args = (f"--run_dir={run_dir}", "--overwrite", "--epochs=1", *TINY[:-1], "--batch_size=32")
    with caplog.at_level("INFO"):
        _train(*args, "--verbosity=0")  # INFO lines, as under app.run
    assert f"--overwrite: removed the run {run_dir} held" in caplog.text
    config = RunConfig.from_json((run_dir / "config.json").read_text())
    assert config.train.batch_size == 32 and config.train.learning_rate == 0.001
    assert (run_dir / "notes.txt").read_text() == "mine"
    assert len((run_dir / "history.csv").read_text().splitlines()) == 2


def _wait_for(predicate, process, timeout):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.slow
def test_ctrl_c_stops_at_once_with_one_line_and_the_run_resumes(tmp_path):
    """Also: a normal run shows the project's lines, not TensorFlow's start-up noise."""
    run_dir = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "skiprec_tf.main", f"--run_dir={run_dir}", "--epochs=1000", *TINY],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    history = run_dir / "history.csv"
    # Epoch 3's line: epoch 2's checkpoint is written (an epoch's line comes before its own).
    _wait_for(lambda: history.exists() and len(history.read_text().splitlines()) > 3, process, 120)
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    stdout, stderr = process.communicate(timeout=30)
    assert time.monotonic() - sent < 5, "stops at once"
    assert process.returncode == 130
    output = stdout + stderr
    for noise in ("Traceback", "KeyboardInterrupt", "cuInit", "oneDNN", "absl::InitializeLog"):
        assert noise not in output, noise
    last = stderr.splitlines()[-1]
    assert last.startswith("Interrupted: saved the checkpoint of epoch "), stderr
    epoch = int(last.split("epoch ")[1].split(";")[0])
    assert epoch >= 2
    command = f"python -m skiprec_tf.main --run_dir={run_dir} --resume"
    assert last.endswith(f"continue with: {command}")
    assert sum("Interrupted" in line for line in output.splitlines()) == 1

    resumed = _main(f"--run_dir={run_dir}", "--resume", f"--epochs={epoch + 1}", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resumed from {run_dir}/checkpoints/last/ckpt-" in resumed.stderr
    assert f", saved after epoch {epoch}\n" in resumed.stderr
    epochs = [int(line.split(",")[0]) for line in history.read_text().splitlines()[1:]]
    assert epochs == list(range(1, epoch + 2))


@pytest.mark.slow  # the second tier: two fresh processes
def test_init_from_a_run_of_other_data_is_refused_before_the_data_load(tmp_path):
    """The backbone run (only its config.json and a checkpoint index are read) was made with
    t = 12; the SkipRec run asks t = 10 and names a data file that does not exist: the
    --init_from error comes first, before the data would load."""
    backbone = tmp_path / "backbone"
    (backbone / "checkpoints" / "best").mkdir(parents=True)
    (backbone / "checkpoints" / "best" / "checkpoint").write_text(
        'model_checkpoint_path: "ckpt-1"\n'
    )
    (backbone / "checkpoints" / "best" / "ckpt-1.index").write_bytes(b"")
    saved = RunConfig(
        data=DataConfig(format="movielens_csv", path="ratings.csv", seq_len=12),
        model=ModelConfig(embedding_dim=8, num_blocks=2),
        run_dir=str(backbone),
    )
    (backbone / "config.json").write_text(saved.to_json())
    result = _main(
        "--model=skiprec_rl", "--embedding_dim=8", "--num_blocks=2", "--seq_len=10",
        "--data_format=movielens_csv", f"--data_path={tmp_path / 'missing.csv'}",
        f"--init_from={backbone}", f"--run_dir={tmp_path / 'run'}", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: --init_from={backbone}: it was trained on other data settings: "
        "--seq_len=12 (here 10)"
    )
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_a_nonfinite_loss_is_one_error_line_and_the_last_good_checkpoint_stays(tmp_path):
    run_dir = tmp_path / "run"
    result = _main(
        *TINY, "--learning_rate=1e25", "--checkpoint_every_steps=1", f"--run_dir={run_dir}",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert errors[0].startswith("error: the training loss is nan at step ")
    step = int(errors[0].split("at step ")[1].split(" ")[0])
    assert f"step {step} of epoch 1; stopped before saving it" in errors[0]
    position = RunDir(run_dir).last_position()
    assert position == ((0, step - 1) if step > 1 else None)  # the step before: finite
