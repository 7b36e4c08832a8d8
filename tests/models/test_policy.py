"""The policy networks: N x 2 logits from a sequence; the random one retains half of the blocks."""

import inspect

import pytest
import tensorflow as tf
from skiprec_testing import D, N, V, make_batch, make_skiprec

from skiprec_tf.models import AttentionPolicy, CNNPolicy, GRUPolicy, RandomPolicy

POLICY_ARGUMENTS = {AttentionPolicy: {"input_length": 7}}  # make_batch's inputs: length 7


@pytest.mark.parametrize("policy_cls", [CNNPolicy, GRUPolicy, AttentionPolicy, RandomPolicy])
def test_policies_give_n_by_2_logits(policy_cls):
    policy = policy_cls(V, N, D, **POLICY_ARGUMENTS.get(policy_cls, {}))
    assert policy(make_batch()[0]).shape == (6, N, 2)
    assert (len(policy.trainable_weights) == 0) == (policy_cls is RandomPolicy)


def test_random_policy_retains_about_half_of_the_blocks():
    model = make_skiprec(policy_cls=RandomPolicy)
    inputs = make_batch(rows=500)[0]
    usage = float(tf.reduce_mean(model.inference_actions(inputs)))
    assert 0.45 < usage < 0.55


@pytest.mark.parametrize(
    "policy_fn",
    [
        lambda: CNNPolicy(V, N, D, block_dilations=(1, 2, 4), name="cnn"),
        lambda: GRUPolicy(V, N, D, name="gru"),
        lambda: AttentionPolicy(V, N, D, input_length=7, num_heads=4, name="attention"),
        lambda: RandomPolicy(V, N, D, name="random"),
    ],
    ids=["CNNPolicy", "GRUPolicy", "AttentionPolicy", "RandomPolicy"],
)
def test_policy_is_rebuilt_from_its_config(policy_fn):
    policy = policy_fn()
    policy(make_batch()[0])
    config = policy.get_config()
    arguments = set(inspect.signature(type(policy).__init__).parameters) - {"self", "kwargs"}
    assert arguments <= set(config), "get_config returns every constructor argument"
    for rebuilt in (type(policy).from_config(config), type(policy)(**config)):
        assert type(rebuilt) is type(policy) and rebuilt.get_config() == config
