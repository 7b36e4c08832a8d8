"""Training under tf.distribute: means over the global batch, per-example noise, the strategies,
and 2 workers on 127.0.0.1 against one process with the same global batch."""

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from skiprec_tf.config import DataConfig, ModelConfig, PolicyConfig, RunConfig, TrainConfig
from skiprec_tf.data.sources import load_data
from skiprec_tf.models import build_recommender
from skiprec_tf.models.noise import example_uniform
from skiprec_tf.training.distribute import global_mean, is_chief, make_strategy, replica_sum
from skiprec_tf.training.run_dir import RunDir
from skiprec_tf.training.trainer import train_and_evaluate

pytestmark = pytest.mark.slow  # the second tier (conftest.py)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_one_replica_means_are_plain_means():
    values, weights = tf.constant([1.0, 2.0, 6.0]), tf.constant([1.0, 0.0, 1.0])
    assert float(global_mean(values, weights)) == 3.5
    assert float(global_mean(values)) == 3.0
    assert float(replica_sum(tf.constant(2.0))) == 2.0


def test_per_example_noise_depends_on_the_example_and_the_seed_alone():
    inputs = tf.constant(np.random.default_rng(0).integers(0, 50, size=(64, 9)), tf.int32)
    seed = tf.constant([3, 4])
    noise = example_uniform(inputs, seed, 8).numpy()
    order = np.random.default_rng(1).permutation(64)
    shuffled = example_uniform(tf.gather(inputs, order), seed, 8).numpy()
    np.testing.assert_array_equal(shuffled, noise[order])  # whatever the batch it is in
    np.testing.assert_array_equal(example_uniform(inputs[:5], seed, 8).numpy(), noise[:5])
    assert not np.array_equal(example_uniform(inputs, tf.constant([3, 5]), 8).numpy(), noise)
    assert 0.0 < noise.min() and noise.max() < 1.0
    assert abs(noise.mean() - 0.5) < 0.05 and len(np.unique(noise)) == noise.size


def test_the_only_process_is_the_chief():
    assert is_chief(make_strategy("default"))
    with pytest.raises(ValueError, match="unknown strategy 'ring'"):
        make_strategy("ring")


@pytest.mark.parametrize("model", ["nextitnet_plus", "skiprec_gumbel", "skiprec_rl"])
def test_each_model_trains_under_mirrored_as_under_default(tmp_path, model):
    """This machine's one device: MirroredStrategy runs one replica through the distributed
    code path (global means, replica sums, mirrored variables) and must equal the default."""
    config = RunConfig(
        data=DataConfig(synthetic_users=300, synthetic_items=30, seq_len=10),
        model=ModelConfig(model=model, embedding_dim=8, num_blocks=2),
        policy=PolicyConfig(per_example_noise=True),
        train=TrainConfig(batch_size=64, epochs=1, seed=3),
    )
    data = load_data(config.data)
    results = {}
    for strategy in ("default", "mirrored"):
        run = dataclasses.replace(
            config,
            train=dataclasses.replace(config.train, strategy=strategy),
            run_dir=str(tmp_path / strategy),
        )
        results[strategy] = train_and_evaluate(run, data, strategy=make_strategy(strategy))
    for name, value in results["default"]["test"].items():
        assert results["mirrored"]["test"][name] == pytest.approx(value, abs=1e-6), name


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


# SkipRec-RL in CI; e.g. SKIPREC_MULTI_WORKER_MODELS=nextitnet_plus,skiprec_gumbel,skiprec_rl
# for every model (docs/results.md).
MULTI_WORKER_MODELS = os.environ.get("SKIPREC_MULTI_WORKER_MODELS", "skiprec_rl").split(",")
FLAGS = (
    "--cache_dir=", "--data_format=synthetic", "--synthetic_users=400", "--synthetic_items=40",
    "--seq_len=12", "--embedding_dim=8", "--num_blocks=4",
    "--batch_size=64", "--eval_batch_size=128", "--epochs=2", "--seed=5", "--per_example_noise",
)  # fmt: skip


def _start(args, log, tf_config=None, model="skiprec_rl"):
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    with open(log, "w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "skiprec_tf.main", *FLAGS, f"--model={model}", *args],
            cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip


def _weights(run_dir):
    """The weights of the run's last checkpoint, restored into a one-process model."""
    _, model, _ = RunDir(run_dir).load_model()
    path = tf.train.latest_checkpoint(RunDir(run_dir).last_checkpoints)
    tf.train.Checkpoint(model=model).restore(path).expect_partial()
    return {weight.path: weight.numpy() for weight in model.weights}


@pytest.mark.multi_worker
@pytest.mark.parametrize("model", MULTI_WORKER_MODELS)
def test_two_workers_agree_and_match_one_process_with_the_same_global_batch(tmp_path, model):
    """2 epochs of 5 steps, global batch 64 (32 per worker). Tolerance: float summation order
    (the all-reduce adds the two halves' gradients): 1e-6 absolute on weights of order 1."""
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    start = time.monotonic()
    run_dir = tmp_path / "multi_worker"
    workers = [
        _start(
            ["--strategy=multi_worker", f"--run_dir={run_dir}"],
            tmp_path / f"worker_{index}.log",
            {"cluster": cluster, "task": {"type": "worker", "index": index}},
            model,
        )
        for index in range(2)
    ]
    single = _start([f"--run_dir={tmp_path / 'single'}"], tmp_path / "single.log", None, model)
    for process, name in [(workers[0], "worker_0"), (workers[1], "worker_1"), (single, "single")]:
        process.wait(timeout=600)
        assert process.returncode == 0, (tmp_path / f"{name}.log").read_text()[-3000:]
    print(f"2 workers and one process: {time.monotonic() - start:.1f} s")

    digests = [
        line.rsplit(" ", 1)[1]
        for index in range(2)
        for line in (tmp_path / f"worker_{index}.log").read_text().splitlines()
        if "Weights after training" in line
    ]
    assert len(digests) == 2 and digests[0] == digests[1]  # both workers end identical
    expected, distributed = _weights(tmp_path / "single"), _weights(run_dir)  # the chief's
    difference = max(np.abs(expected[name] - distributed[name]).max() for name in expected)
    print(f"largest weight difference against one process: {difference:.2e}")
    assert difference < 1e-6
    metrics = [RunDir(path).read_metrics()["test"] for path in (tmp_path / "single", run_dir)]
    for name, value in metrics[0].items():
        assert metrics[1][name] == pytest.approx(value, abs=1e-4), name

    # The chief's checkpoints continue in one process.
    resumed = _start(
        [f"--run_dir={run_dir}", "--resume", "--epochs=3", "--strategy=default"],
        tmp_path / "resumed.log",
        None,
        model,
    )
    resumed.wait(timeout=300)
    log = (tmp_path / "resumed.log").read_text()
    assert resumed.returncode == 0 and "saved after epoch 2" in log, log[-3000:]


def test_per_example_samples_follow_the_policy():
    model = build_recommender(
        ModelConfig(model="skiprec_rl", embedding_dim=4, num_blocks=3),
        PolicyConfig(per_example_noise=True),
        num_items=50,
        input_length=6,
    )
    inputs = tf.constant(np.random.default_rng(2).integers(1, 51, size=(4000, 6)), tf.int32)
    retain = np.array([0.1, 0.5, 0.8])
    logits = tf.constant(np.log(np.stack([1 - retain, retain], -1))[None], tf.float32)
    actions = model.sampled_actions(tf.tile(logits, [4000, 1, 1]), inputs).numpy()
    np.testing.assert_allclose(actions.mean(axis=0), retain, atol=0.03)
