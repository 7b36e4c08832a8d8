"""RunDir: the layout of a run directory, its checkpoint choice and its model."""

import errno
import os
import pathlib
import shutil

import numpy as np
import pytest
import tensorflow as tf

from skiprec_tf.config import RunConfig
from skiprec_tf.errors import ConfigError, RunDirError
from skiprec_tf.training.run_dir import RunDir


def test_a_finished_run_has_every_file_where_run_dir_says(tiny_skiprec_run):
    run = RunDir(tiny_skiprec_run)
    for path in (
        run.config_file,
        run.item_ids_file,
        run.history_file,
        run.metrics_file,
        run.block_usage_csv,
        run.block_usage_png,
    ):
        assert tf.io.gfile.exists(path), path
    assert tf.io.gfile.glob(f"{run.tensorboard_dir}/events.out.tfevents.*")
    assert run.holds_run()
    assert run.read_config().run_dir == tiny_skiprec_run
    assert run.read_metrics()["model"] == "skiprec_rl"
    assert run.read_item_ids()[0] == 0  # padding


def test_the_model_checkpoint_is_the_best_else_the_last(tiny_skiprec_run, tmp_path):
    run = RunDir(tiny_skiprec_run)
    assert run.model_checkpoint() == tf.train.latest_checkpoint(run.best_checkpoints)
    assert RunDir.of_checkpoint(run.model_checkpoint()).path == run.path
    copy = RunDir(shutil.copytree(tiny_skiprec_run, tmp_path / "run"))
    shutil.rmtree(copy.best_checkpoints)
    assert copy.model_checkpoint() == tf.train.latest_checkpoint(copy.last_checkpoints)
    shutil.rmtree(copy.last_checkpoints)
    assert copy.model_checkpoint() is None and not copy.holds_run()
    with pytest.raises(ConfigError, match="no checkpoint"):
        copy.load_model()


def test_load_model_has_the_checkpoint_weights(tiny_skiprec_run):
    config, model, item_ids = RunDir(tiny_skiprec_run).load_model()
    assert isinstance(config, RunConfig) and len(item_ids) == model.num_items + 1
    reader = tf.train.load_checkpoint(RunDir(tiny_skiprec_run).model_checkpoint())
    saved = reader.get_tensor("model/output_layer/_kernel/.ATTRIBUTES/VARIABLE_VALUE")
    np.testing.assert_array_equal(model.output_layer.kernel.numpy(), saved)


def test_not_a_run_directory(tmp_path):
    run = RunDir(tmp_path)
    assert not run.holds_run() and not run.has_config()
    with pytest.raises(ConfigError, match="not a run directory"):
        run.read_config()


def test_files_are_written_whole(tmp_path):
    run = RunDir(tmp_path / "new")
    run.write_config(RunConfig(run_dir=run.path))
    run.write_flags("--seq_len=20\n")
    assert RunDir(run.path).read_config() == RunConfig(run_dir=run.path)
    assert not tf.io.gfile.glob(f"{run.path}/*.tmp")


def test_a_failed_write_names_the_path_and_leaves_the_old_file(tmp_path, monkeypatch):
    run = RunDir(tmp_path / "run")
    run.write_flags("--seq_len=20\n")

    def full_disk(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("skiprec_tf.training.run_dir.os.replace", full_disk)
    with pytest.raises(RunDirError, match=f"cannot write {run.flags_file}: No space left"):
        run.write_flags("--seq_len=30\n")
    with pytest.raises(RunDirError, match="item_ids.npy"):
        run.write_item_ids(np.arange(3))
    assert sorted(os.listdir(run.path)) == ["flags.cfg"], "no temporary file is left"
    assert pathlib.Path(run.flags_file).read_text() == "--seq_len=20\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
def test_a_read_only_run_directory_is_a_clear_error(tmp_path):
    run = RunDir(tmp_path / "run")
    os.makedirs(run.path)
    os.chmod(run.path, 0o555)
    try:
        with pytest.raises(RunDirError, match=f"cannot write {run.config_file}: Permission"):
            run.write_config(RunConfig(run_dir=run.path))
    finally:
        os.chmod(run.path, 0o755)


def test_remove_run_keeps_other_files(tiny_skiprec_run, tmp_path):
    copy = RunDir(shutil.copytree(tiny_skiprec_run, tmp_path / "run"))
    (tmp_path / "run" / "notes.txt").write_text("mine")
    copy.remove_run()
    assert os.listdir(copy.path) == ["notes.txt"]


def test_a_run_directory_that_cannot_be_written_is_found_before_anything_loads(
    tmp_path, monkeypatch
):
    RunDir(tmp_path / "new" / "run").check_writable()  # a directory to make is fine
    (tmp_path / "file").write_text("")
    with pytest.raises(RunDirError, match="file is not a writable directory"):
        RunDir(tmp_path / "file" / "run").check_writable()
    monkeypatch.setattr("skiprec_tf.training.run_dir.os.access", lambda path, mode: False)
    with pytest.raises(RunDirError, match=f"--run_dir={tmp_path}/new/run: {tmp_path} is not"):
        RunDir(tmp_path / "new" / "run").check_writable()
    assert not (tmp_path / "new").exists()


def test_truncate_history_keeps_the_epochs_a_resumed_run_does_not_write_again(tmp_path):
    run = RunDir(tmp_path)
    run.truncate_history(1)  # no history yet: nothing to do
    (tmp_path / "history.csv").write_text("")  # opened by a run killed in its first epoch
    run.truncate_history(1)
    (tmp_path / "history.csv").write_text("epoch,loss\n1,0.5\n2,0.4\n3,0.3\n")
    run.truncate_history(2)
    assert (tmp_path / "history.csv").read_text() == "epoch,loss\n1,0.5\n2,0.4\n"
    run.truncate_history(0)
    assert (tmp_path / "history.csv").read_text() == "epoch,loss\n"
