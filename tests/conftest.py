"""Shared pytest fixtures: the location of the real data sets, a tiny trained SkipRec run, and the
`integration` marker."""

import os
import pathlib

import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "integration: real-data or slow tests (need SKIPREC_DATA_DIR)"
    )


@pytest.fixture(scope="session")
def shared_data_dir():
    """The shared real data sets, from `SKIPREC_DATA_DIR`; skipped when unset, except in CI."""
    value = os.environ.get("SKIPREC_DATA_DIR")
    in_ci = os.environ.get("CI", "").lower() == "true"
    if not value:
        if in_ci:
            pytest.fail(
                "SKIPREC_DATA_DIR is not set but CI=true: CI must point it at the shared data "
                "sets (../shared/data from the project root)",
                pytrace=False,
            )
        pytest.skip(
            "SKIPREC_DATA_DIR is not set: real-data tests need the shared data sets (CI sets it)"
        )
    path = pathlib.Path(value)
    if not path.is_dir():
        pytest.fail(f"SKIPREC_DATA_DIR={value} is not a directory", pytrace=False)
    return path


@pytest.fixture(scope="session")
def tiny_skiprec_run(tmp_path_factory):
    """The directory of a SkipRec-RL run trained for one epoch on a small synthetic set (t = 10,
    d = 8, 4 blocks), for the export and serving tests."""
    from skiprec_tf.config import DataConfig, ModelConfig, PolicyConfig, RunConfig, TrainConfig
    from skiprec_tf.data.sources import load_data
    from skiprec_tf.trainer import train_and_evaluate

    run_dir = str(tmp_path_factory.mktemp("tiny_skiprec") / "run")
    data_config = DataConfig(synthetic_users=300, synthetic_items=40, seq_len=10)
    config = RunConfig(
        data=data_config,
        model=ModelConfig(model="skiprec_rl", embedding_dim=8, num_blocks=4),
        policy=PolicyConfig(),
        train=TrainConfig(batch_size=64, epochs=1),
        run_dir=run_dir,
    )
    train_and_evaluate(config, load_data(data_config))
    return run_dir
