"""SkipRec-RL on the synthetic data: easy users (next item from the last one) get fewer blocks
than hard users (next item from the one 8 steps back, out of reach without a dilated block)."""

import pytest

from skiprec_tf.config import DataConfig, ModelConfig, PolicyConfig, RunConfig, TrainConfig
from skiprec_tf.data.sources import load_data, user_groups
from skiprec_tf.training.trainer import train_and_evaluate

MARGIN = 0.5  # blocks, on average over the test users of each kind


@pytest.mark.slow
def test_easy_users_get_fewer_blocks_than_hard_users(tmp_path):
    data_config = DataConfig(synthetic_users=3000, synthetic_items=400)
    config = RunConfig(
        data=data_config,
        model=ModelConfig(model="skiprec_rl", embedding_dim=32, num_blocks=4),
        # A warm-up with every block (the authors' rl_iter) trains the blocks first: from
        # scratch, fresh ReZero blocks are the identity and the policy learns to skip them all.
        policy=PolicyConfig(policy="cnn", warmup_epochs=3),
        train=TrainConfig(batch_size=128, learning_rate=3e-3, epochs=8),
        run_dir=str(tmp_path / "run"),
    )
    results = train_and_evaluate(config, load_data(data_config), user_groups(data_config))
    by_kind = results["block_usage"]["blocks_mean_by_group"]
    assert by_kind["hard"] - by_kind["easy"] >= MARGIN, results["block_usage"]
    assert results["test"]["hr_at_20"] > 2 * results["most_popular"]["hr_at_20"], results
    for name in ("block_usage.csv", "block_usage.png", "metrics.json"):
        assert (tmp_path / "run" / name).is_file()
