"""Shared pytest fixtures: the location of the real data sets, a tiny trained SkipRec run, and the
markers (`slow`, the second tier, and `integration`, `kill`, `multi_worker`, all slow)."""

import os
import pathlib

import pytest

# Markers whose tests are also `slow`: the second tier, which `pytest -m slow` runs (the default
# `pytest` run, the README's test command, leaves it out: pyproject.toml's addopts).
SLOW_KINDS = ("integration", "kill", "multi_worker")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "slow: the second tier (fresh processes, exports, resumes, real data, tools; about "
        "20 minutes on 2 cores): `pytest -m slow`",
    )
    config.addinivalue_line(
        "markers", "integration: real-data or slow tests (need SKIPREC_DATA_DIR)"
    )
    config.addinivalue_line(
        "markers", "kill: SIGKILLs training subprocesses and resumes them (about a minute)"
    )
    config.addinivalue_line(
        "markers", "multi_worker: trains on 2 worker processes on 127.0.0.1 (about a minute)"
    )


def pytest_collection_modifyitems(items):
    for item in items:
        if any(item.get_closest_marker(kind) for kind in SLOW_KINDS):
            item.add_marker(pytest.mark.slow)


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


def _tiny_skiprec_run(tmp_path_factory, backbone: str, policy: str) -> str:
    """The directory of a SkipRec-RL run on `backbone` with the `policy` network, trained for one
    epoch on a small synthetic set (t = 10, d = 8, 4 blocks)."""
    from skiprec_tf.config import DataConfig, ModelConfig, PolicyConfig, RunConfig, TrainConfig
    from skiprec_tf.data.sources import load_data
    from skiprec_tf.training.trainer import train_and_evaluate

    run_dir = str(tmp_path_factory.mktemp(f"tiny_skiprec_{backbone}") / "run")
    data_config = DataConfig(synthetic_users=300, synthetic_items=40, seq_len=10)
    config = RunConfig(
        data=data_config,
        model=ModelConfig(model="skiprec_rl", backbone=backbone, embedding_dim=8, num_blocks=4),
        policy=PolicyConfig(policy=policy),
        train=TrainConfig(batch_size=64, epochs=1),
        run_dir=run_dir,
    )
    train_and_evaluate(config, load_data(data_config))
    return run_dir


@pytest.fixture(scope="session")
def tiny_skiprec_run(tmp_path_factory):
    """A tiny SkipRec-RL run on NextItNet+ (`_tiny_skiprec_run`), for the export and serving
    tests."""
    return _tiny_skiprec_run(tmp_path_factory, "nextitnet_plus", "cnn")


@pytest.fixture(scope="session")
def tiny_sasrec_skiprec_run(tmp_path_factory):
    """A tiny SkipRec-RL run on SASRec+ with the self-attention policy (`_tiny_skiprec_run`)."""
    return _tiny_skiprec_run(tmp_path_factory, "sasrec_plus", "attention")


@pytest.fixture(params=["nextitnet_plus", "sasrec_plus"])
def tiny_run_of_each_backbone(request):
    """`tiny_skiprec_run`, then `tiny_sasrec_skiprec_run`."""
    name = {"nextitnet_plus": "tiny_skiprec_run", "sasrec_plus": "tiny_sasrec_skiprec_run"}
    return request.getfixturevalue(name[request.param])
