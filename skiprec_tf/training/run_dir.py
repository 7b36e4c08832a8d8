"""A run directory: the one place that knows its layout, files, checkpoints and model."""

import contextlib
import hashlib
import json
import os
import shutil

import keras
import numpy as np
import tensorflow as tf

from skiprec_tf.config import RunConfig
from skiprec_tf.errors import ConfigError, RunDirError
from skiprec_tf.models import build_recommender


def build_model(config: RunConfig, num_items: int) -> keras.Model:
    """The model of `config` over items 1..`num_items`, its weights created (called once on a
    batch of the input length t - 1)."""
    model = build_recommender(
        config.model, config.policy, num_items, config.data.input_length, config.train.seed
    )
    model(tf.zeros([1, config.data.input_length], tf.int32))
    return model


def optimizer_step(model: keras.Model) -> int:
    """The model's optimizer step (its iterations; a mirrored variable under tf.distribute)."""
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


class RunDir:
    """`<path>/` of one run:

    flags.cfg        the run's settings as a flagfile that reproduces it
    config.json      the `RunConfig`
    item_ids.npy     the raw id of every internal item id (0 = padding)
    history.csv      one line per epoch
    metrics.json     the test metrics of the best epoch, baselines, data set sizes
    block_usage.csv  SkipRec: the utilisation of every block (and block_usage.png)
    served_speedup.json  SkipRec, tools/reproduce_tables.py: its served speedup against its
                     backbone, measured once, so that the tables need no checkpoint again
    tensorboard/     TensorBoard's event files
    checkpoints/last model, optimizer, epoch and best score after every epoch (resume)
    checkpoints/best the model of the best validation epoch
    xla_cache/       --jit_compile: XLA's compiled programs, which a --resume loads instead of
                     compiling again (kept by --overwrite: each is keyed by its program)
    """

    def __init__(self, path: str):
        self.path = str(path)

    def _file(self, *names: str) -> str:
        return os.path.join(self.path, *names)

    flags_file = property(lambda self: self._file("flags.cfg"))
    config_file = property(lambda self: self._file("config.json"))
    item_ids_file = property(lambda self: self._file("item_ids.npy"))
    history_file = property(lambda self: self._file("history.csv"))
    metrics_file = property(lambda self: self._file("metrics.json"))
    test_ranks_file = property(lambda self: self._file("test_ranks.npz"))
    block_usage_csv = property(lambda self: self._file("block_usage.csv"))
    block_usage_png = property(lambda self: self._file("block_usage.png"))
    served_speedup_file = property(lambda self: self._file("served_speedup.json"))
    tensorboard_dir = property(lambda self: self._file("tensorboard"))
    last_checkpoints = property(lambda self: self._file("checkpoints", "last"))
    best_checkpoints = property(lambda self: self._file("checkpoints", "best"))

    @classmethod
    def of_checkpoint(cls, prefix: str) -> "RunDir":
        """The run whose `checkpoints/<last|best>/` holds the checkpoint `prefix`."""
        return cls(os.path.dirname(os.path.dirname(os.path.dirname(prefix))))

    def holds_run(self) -> bool:
        """Whether a run has written its resumable state here."""
        return os.path.isdir(self.last_checkpoints)

    def has_config(self) -> bool:
        return os.path.isfile(self.config_file)

    def check_writable(self) -> None:
        """A `RunDirError` if the directory, or the nearest existing one above it, is not
        writable (checked before anything loads; nothing is created)."""
        path = os.path.abspath(self.path)
        while not os.path.exists(path) and os.path.dirname(path) != path:
            path = os.path.dirname(path)
        if not os.path.isdir(path) or not os.access(path, os.W_OK | os.X_OK):
            raise RunDirError(f"--run_dir={self.path}: {path} is not a writable directory")

    def last_position(self):
        """(finished epochs, steps finished of the next epoch) of the last checkpoint, or None."""
        path = tf.train.latest_checkpoint(self.last_checkpoints)
        if path is None:
            return None
        reader = tf.train.load_checkpoint(path)
        epoch = int(reader.get_tensor("epoch/.ATTRIBUTES/VARIABLE_VALUE"))
        step_key = "step_in_epoch/.ATTRIBUTES/VARIABLE_VALUE"
        step = int(reader.get_tensor(step_key)) if reader.has_tensor(step_key) else 0
        return epoch, step

    def remove_run(self) -> None:
        """Deletes the run's files and directories (not other files the directory holds)."""
        for name in os.listdir(self.path) if os.path.isdir(self.path) else ():
            path = self._file(name)
            if name in ("tensorboard", "checkpoints") and os.path.isdir(path):
                shutil.rmtree(path)
            elif name.startswith(_RUN_FILES):
                os.remove(path)

    # Files, each written atomically.

    def write_flags(self, text: str) -> None:
        _write_text(self.flags_file, text)

    def truncate_history(self, epochs: int) -> None:
        """Keeps the lines of `history.csv` up to epoch `epochs`: a resumed run writes the later
        ones again (a run killed after writing an epoch's line, before its checkpoint)."""
        if not os.path.isfile(self.history_file):
            return
        with open(self.history_file) as f:
            lines = f.read().splitlines()
        if not lines:  # opened by a run killed before its first epoch ended
            return
        header, *rows = lines
        kept = [row for row in rows if int(row.split(",")[0]) <= epochs]
        if len(kept) < len(rows):
            _write_text(self.history_file, "\n".join([header, *kept]) + "\n")

    def write_config(self, config: RunConfig) -> None:
        _write_text(self.config_file, config.to_json())

    def read_config(self) -> RunConfig:
        if not os.path.isdir(self.path):
            raise ConfigError(f"{self.path} does not exist")
        if not self.has_config():
            raise ConfigError(f"{self.path}: no config.json, not a run directory")
        with open(self.config_file) as f:
            return RunConfig.from_json(f.read())

    def write_item_ids(self, item_ids: np.ndarray) -> None:
        with _atomic(self.item_ids_file, ".tmp.npy") as tmp:
            np.save(tmp, item_ids)

    def read_item_ids(self) -> np.ndarray:
        return np.load(self.item_ids_file)

    def write_metrics(self, results: dict) -> None:
        _write_text(self.metrics_file, json.dumps(results, indent=2))

    def read_metrics(self) -> dict:
        with open(self.metrics_file) as f:
            return json.load(f)

    def write_served_speedup(self, record: dict) -> None:
        _write_text(self.served_speedup_file, json.dumps(record, indent=2))

    def read_served_speedup(self) -> dict | None:
        """The record `write_served_speedup` wrote, or None."""
        if not os.path.isfile(self.served_speedup_file):
            return None
        with open(self.served_speedup_file) as f:
            return json.load(f)

    def write_test_ranks(self, ranks: dict, test_sequences: np.ndarray) -> None:
        """`{name: ranks [n]}` of the test targets, with a fingerprint of the test split."""
        with _atomic(self.test_ranks_file, ".tmp.npz") as tmp:
            np.savez(tmp, split=split_fingerprint(test_sequences), **ranks)

    def read_test_ranks(self):
        """(`{name: ranks}`, the test split's fingerprint) of `write_test_ranks`."""
        if not os.path.isfile(self.test_ranks_file):
            raise ConfigError(f"{self.path}: no test_ranks.npz (a run that has not finished)")
        with np.load(self.test_ranks_file) as saved:
            ranks = {name: saved[name] for name in saved.files if name != "split"}
            return ranks, str(saved["split"])

    # Checkpoints and the model.

    def model_checkpoint(self):
        """The checkpoint of the run's model: the best validation epoch's, else the last; None
        before the first epoch ends."""
        return tf.train.latest_checkpoint(self.best_checkpoints) or tf.train.latest_checkpoint(
            self.last_checkpoints
        )

    def load_model(self):
        """(config, the model with the weights of `model_checkpoint`, item ids)."""
        config, item_ids = self.read_config(), self.read_item_ids()
        path = self.model_checkpoint()
        if path is None:
            raise ConfigError(f"{self.path}: no checkpoint, the run has not finished an epoch")
        model = build_model(config, len(item_ids) - 1)
        tf.train.Checkpoint(model=model).restore(path).expect_partial()
        return config, model, item_ids


def split_fingerprint(sequences: np.ndarray) -> str:
    """A digest of a split's sequences: two runs are paired only on the same test split."""
    array = np.ascontiguousarray(sequences, dtype=np.int32)
    return hashlib.sha256(str(array.shape).encode() + array.tobytes()).hexdigest()


def _write_text(path: str, text: str) -> None:
    """Writes `path` atomically (a temporary file, then a rename)."""
    with _atomic(path) as tmp, open(tmp, "w") as f:
        f.write(text)


@contextlib.contextmanager
def _atomic(path: str, suffix: str = ".tmp"):
    """Yields a temporary path to write, then renames it to `path` (its directory made first).
    On failure the temporary file is removed; an `OSError` (a read-only directory, a full disk)
    becomes a `RunDirError` naming `path`."""
    tmp = f"{path}{suffix}"
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except OSError as error:
        _remove_quietly(tmp)
        raise RunDirError(f"cannot write {path}: {error.strerror or error}") from error
    except BaseException:
        _remove_quietly(tmp)
        raise


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


# The files `RunDir.remove_run` deletes, and the prefixes of their temporary files and plots.
_RUN_FILES = (
    "flags.cfg",
    "config.json",
    "item_ids.npy",
    "history.csv",
    "metrics.json",
    "test_ranks.npz",
    "block_usage.csv",
    "block_usage.png",
    "served_speedup.json",
)
