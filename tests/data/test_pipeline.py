"""The tf.data pipelines: next-item pairs and a resumable per-epoch order."""

import numpy as np

from skiprec_tf.data.pipeline import evaluation_batches, training_batches


def _sequences(n=10, t=4):
    return np.arange(1, n * t + 1, dtype=np.int32).reshape(n, t)


def test_inputs_and_targets_are_shifted_by_one():
    inputs, targets = next(iter(evaluation_batches(_sequences(), 3)))
    np.testing.assert_array_equal(inputs, _sequences()[:3, :-1])
    np.testing.assert_array_equal(targets, _sequences()[:3, 1:])


def test_each_epoch_is_a_permutation_and_resumes_identically():
    seqs = _sequences()
    full = [t.numpy()[:, -1] for _, t in training_batches(seqs, 4, seed=7, start_epoch=0, epochs=3)]
    assert len(full) == 9  # ceil(10 / 4) batches per epoch
    epochs = [np.concatenate(full[i * 3 : (i + 1) * 3]) for i in range(3)]
    for order in epochs:
        assert sorted(order) == sorted(seqs[:, -1])
    assert not np.array_equal(epochs[0], epochs[1]), "each epoch is shuffled anew"
    resumed = [
        t.numpy()[:, -1] for _, t in training_batches(seqs, 4, seed=7, start_epoch=1, epochs=3)
    ]
    for a, b in zip(full[3:], resumed):
        np.testing.assert_array_equal(a, b)
