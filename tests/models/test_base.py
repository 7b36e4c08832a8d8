"""SequentialRecommender: the masked cross-entropy (Eq. 4), the train step around compute_loss,
and the ranking of the last item."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from skiprec_tf.models import SequentialRecommender

# V = 3 items of d = 2: embeddings E (row 0 is padding), output weights W and b of Eq. 3.
E = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], np.float32)
W = np.array([[1.0, 2.0, 0.0, 1.0], [0.0, 1.0, 3.0, 0.0]], np.float32)
B = np.array([0.5, 0.0, 0.0, -0.5], np.float32)
INPUTS = tf.constant([[0, 1, 2], [3, 2, 1]])
TARGETS = tf.constant([[1, 2, 3], [2, 1, 0]])


class EmbeddingsOnly(SequentialRecommender):
    """The base alone: the hidden states are the item embeddings."""

    def encode(self, inputs, training=False):
        return self.item_embedding(inputs)


def _tiny(cls=EmbeddingsOnly, **kwargs):
    model = cls(num_items=3, embedding_dim=2, **kwargs)
    model(INPUTS)
    model.item_embedding.embeddings.assign(E)
    model.output_layer.kernel.assign(W)
    model.output_layer.bias.assign(B)
    return model


def _cross_entropy(logits, target):
    return np.log(np.sum(np.exp(logits))) - logits[target]


def test_next_item_loss_by_hand():
    model = _tiny()
    # Logits E[x] W + b of the inputs 1, 2, 3.
    after_1 = np.array([1.5, 2.0, 0.0, 0.5])
    after_2 = np.array([0.5, 1.0, 3.0, -0.5])
    after_3 = np.array([1.5, 3.0, 3.0, 0.5])
    # The padded input (row 0, position 0) and the padded target (row 1, position 2) are out.
    expected = np.mean(
        [
            _cross_entropy(after_1, 2),
            _cross_entropy(after_2, 3),
            _cross_entropy(after_3, 2),
            _cross_entropy(after_2, 1),
        ]
    )
    np.testing.assert_allclose(model.compute_loss(INPUTS, TARGETS), expected, rtol=1e-6)


@pytest.mark.parametrize("softmax", ["full", "sampled"])
def test_a_batch_of_padding_has_zero_loss(softmax):
    model = _tiny(softmax=softmax)
    padding = tf.zeros([2, 3], tf.int32)
    assert float(model.compute_loss(padding, TARGETS)) == 0.0
    assert float(model.compute_loss(INPUTS, padding)) == 0.0


def test_sampled_softmax_draws_at_most_every_item():
    model = _tiny(softmax="sampled", num_sampled=1000)
    assert model.num_sampled == 3
    loss = model.compute_loss(INPUTS, TARGETS)
    assert loss.shape == () and np.isfinite(float(loss)) and float(loss) > 0.0


def test_train_step_takes_one_optimizer_step_on_compute_loss():
    class DoubledLoss(EmbeddingsOnly):
        def compute_loss(self, inputs, targets):
            return 2.0 * super().compute_loss(inputs, targets)

    model = _tiny(DoubledLoss)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1))
    with tf.GradientTape() as tape:
        loss = model.compute_loss(INPUTS, TARGETS)
    gradients = tape.gradient(loss, model.trainable_variables)
    expected = [
        w.numpy() - 0.1 * tf.convert_to_tensor(g).numpy()
        for w, g in zip(model.trainable_variables, gradients)
    ]
    logs = model.train_step((INPUTS, TARGETS))
    assert list(logs) == ["loss"]
    np.testing.assert_allclose(logs["loss"], loss, rtol=1e-6)
    for weight, value in zip(model.trainable_variables, expected):
        np.testing.assert_allclose(weight, value, rtol=1e-6)


def test_the_last_item_is_ranked_among_the_items_not_the_padding():
    model = _tiny()
    scores = tf.constant([[9.0, 3.0, 1.0, 2.0], [9.0, 1.0, 3.0, 2.0]])  # padding scores highest
    model.update_ranking(scores, tf.constant([[0, 1], [0, 3]]))  # ranks 1 and 2
    results = model.ranking.results()
    assert float(results["mrr_at_5"]) == 0.75 and float(results["hr_at_20"]) == 1.0


@pytest.mark.parametrize("jit_compile", [False, True])
def test_skip_nonfinite_steps_leaves_the_weights_and_counts_the_step(jit_compile):
    model = _tiny()
    model.compile(optimizer=keras.optimizers.Adam(0.1), jit_compile=jit_compile)
    model.skip_nonfinite_steps = True
    batches = tf.data.Dataset.from_tensors((INPUTS, TARGETS))
    model.fit(batches, epochs=1, verbose=0, shuffle=False)
    model.output_layer.bias.assign([0.5, np.nan, 0.0, -0.5])  # every loss is now nan
    before = [weight.numpy() for weight in model.weights]
    history = model.fit(batches, epochs=1, verbose=0, shuffle=False)
    assert history.history["nonfinite_steps"] == [1.0]
    assert int(model.optimizer.iterations) == 1  # the first fit's step only
    for weight, value in zip(model.weights, before):
        np.testing.assert_array_equal(weight.numpy(), value)
