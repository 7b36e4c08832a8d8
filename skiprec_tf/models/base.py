"""Training (Eq. 3-4) and full-ranking evaluation shared by every next-item model."""

import keras
import tensorflow as tf

from skiprec_tf.evaluation.metrics import RankingMetrics
from skiprec_tf.layers import TiedOutput
from skiprec_tf.training.distribute import global_mean, replica_sum, step_logs


class SequentialRecommender(keras.Model):
    """A next-item model: item embedding -> `encode` -> softmax over all items (Eq. 3).

    Subclasses implement `encode(inputs, training) -> [batch, seq_len, d]`. Training is
    autoregressive (Eq. 4): every position predicts the next item, with the full softmax or
    a sampled softmax; positions whose input or target is padding add nothing to the loss.
    Evaluation ranks the true last item against all items (item 0, padding, excluded).

    As in TensorFlow Recommenders' `tfrs.Model`, `train_step` only runs the gradient tape around
    `compute_loss(inputs, targets)`, applies the gradients to every trainable weight and reports
    `training_trackers`; a model trained otherwise overrides `compute_loss` alone.

    Args:
      num_items: V, items are 1..V and 0 is padding.
      embedding_dim: d.
      softmax: "full" or "sampled" (for very large catalogues).
      num_sampled: negatives of the sampled softmax.
      tied_embeddings: score items by their input embeddings (`TiedOutput`) rather than by
        a separate output layer W (Eq. 3).
    """

    def __init__(
        self,
        num_items: int,
        embedding_dim: int,
        softmax: str = "full",
        num_sampled: int = 1000,
        tied_embeddings: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if softmax not in ("full", "sampled"):
            raise ValueError(f"softmax must be 'full' or 'sampled', got {softmax!r}")
        self.num_items = num_items
        self.embedding_dim = embedding_dim
        self.softmax = softmax
        self.num_sampled = min(num_sampled, num_items)
        self.item_embedding = keras.layers.Embedding(
            num_items + 1, embedding_dim, name="item_embedding"
        )
        self.tied_embeddings = tied_embeddings
        if tied_embeddings:
            self.output_layer = TiedOutput(self.item_embedding, name="output_layer")
        else:
            self.output_layer = keras.layers.Dense(num_items + 1, name="output_layer")  # Eq. 3
        self.loss_tracker = keras.metrics.Mean(name="loss")
        # Set by the trainer (--skip_nonfinite_steps): skip a step whose loss is not finite.
        self.skip_nonfinite_steps = False
        self.nonfinite_steps = keras.metrics.Sum(name="nonfinite_steps")
        self.ranking = RankingMetrics()

    def encode(self, inputs, training=False):
        """Hidden states `[batch, seq_len, d]` of item id sequences `[batch, seq_len]`."""
        raise NotImplementedError

    def call(self, inputs, training=False):
        """Scores `[batch, num_items + 1]` of every item as the next one after each sequence."""
        return self.output_layer(self.encode(inputs, training=training)[:, -1])

    def next_item_loss(self, hidden, inputs, targets):
        """Mean cross-entropy of Eq. 4 over positions with a real input and a real target, of
        the global batch (under `tf.distribute`, this replica's share of it: `global_mean`)."""
        weights = tf.cast((inputs != 0) & (targets != 0), tf.float32)
        if self.softmax == "sampled":
            flat_hidden = tf.reshape(hidden, [-1, self.embedding_dim])
            losses = tf.nn.sampled_softmax_loss(
                weights=tf.transpose(self.output_layer.kernel),
                biases=self.output_layer.bias,
                labels=tf.reshape(tf.cast(targets, tf.int64), [-1, 1]),
                inputs=flat_hidden,
                num_sampled=self.num_sampled,
                num_classes=self.num_items + 1,
            )
            losses = tf.reshape(losses, tf.shape(targets))
        else:
            losses = tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=targets, logits=self.output_layer(hidden)
            )
        return global_mean(losses, weights)

    def compute_loss(self, inputs, targets):
        """The scalar training loss of a batch: here the cross-entropy of Eq. 4.

        Not Keras' `Model.compute_loss(x, y, y_pred, sample_weight, training)`: Keras calls that
        only from its own `train_step`/`test_step` and for a `loss` given to `compile`, neither
        of which this model uses.

        Args:
          inputs: `[batch, seq_len]` item ids.
          targets: `[batch, seq_len]` the next item of every position.
        """
        return self.next_item_loss(self.encode(inputs, training=True), inputs, targets)

    def train_step(self, data):
        inputs, targets = data
        with tf.GradientTape() as tape:
            loss = self.compute_loss(inputs, targets)
        gradients = tape.gradient(loss, self.trainable_variables)
        if self.skip_nonfinite_steps:
            self._apply_if_finite(loss, gradients)
        else:
            self.apply_gradients(gradients)
            self.loss_tracker.update_state(replica_sum(loss))  # a replica's loss is its share
        return step_logs({tracker.name: tracker.result() for tracker in self.training_trackers})

    def _apply_if_finite(self, loss, gradients):
        """Applies the gradients only if they and the loss are finite, else counts the step in
        `nonfinite_steps` (and leaves it out of the mean loss)."""
        finite = tf.reduce_all(
            [tf.reduce_all(tf.math.is_finite(g)) for g in [loss, *gradients] if g is not None]
        )

        def apply():
            self.apply_gradients(gradients)
            return tf.constant(0)

        tf.cond(finite, apply, lambda: tf.constant(0))
        weight = tf.cast(finite, tf.float32)
        self.loss_tracker.update_state(tf.where(finite, loss, 0.0), sample_weight=weight)
        self.nonfinite_steps.update_state(1.0 - weight)

    def apply_gradients(self, gradients):
        """One optimizer step on `trainable_variables` (their gradients, in that order)."""
        self.optimizer.apply(gradients, self.trainable_variables)

    def test_step(self, data):
        inputs, targets = data
        self.update_ranking(self(inputs, training=False), targets)
        return step_logs(self.ranking.results())

    def update_ranking(self, scores, targets):
        """Ranks the true last item of every sequence among items 1..V (column 0 is padding)."""
        self.ranking.update(scores[:, 1:], targets[:, -1] - 1)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras 3 first averages a distributed batch with `strategy.reduce("MEAN", ...)`, which
        # fails on int ids under MultiWorkerMirroredStrategy; the batch would only serve to
        # build an unbuilt model, and the trainer builds the model and its optimizer first.
        if all(layer.built for layer in self._flatten_layers()) and self.optimizer.built:
            return
        super()._maybe_symbolic_build(iterator, data_batch)

    @property
    def training_trackers(self):
        """The metrics `train_step` reports (`history.csv`, TensorBoard, the progress bar)."""
        if self.skip_nonfinite_steps:
            return [self.loss_tracker, self.nonfinite_steps]
        return [self.loss_tracker]

    @property
    def metrics(self):
        return [self.loss_tracker, self.nonfinite_steps, *self.ranking.trackers]
