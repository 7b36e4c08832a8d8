"""A split's sequences as N TFRecord shard files, so that each worker reads only its own shard.

An optional path beside the in-memory pipeline of `pipeline.py` (training does not use it): with
`tf.distribute`, worker `input_context.input_pipeline_id` of `num_input_pipelines` reads
`read_shard(directory, split, seq_len, input_pipeline_id, num_input_pipelines)` and never holds
the whole split. Shard i holds the contiguous rows `np.array_split(rows, N)[i]`, in order; each
record is one row's t item ids as little-endian int32 bytes.

Example:
  write_shards(data.train, "shards/", "train", num_shards=8)
  rows = read_shard("shards/", "train", data.seq_len, index=3, num_shards=8)  # int32 [t] each
"""

import pathlib

import numpy as np
import tensorflow as tf

from skiprec_tf.errors import DataError


def shard_path(directory, split, index, num_shards):
    """`<directory>/<split>-<index>-of-<num_shards>.tfrecord`, numbers zero-padded to 5 digits."""
    return pathlib.Path(directory) / f"{split}-{index:05d}-of-{num_shards:05d}.tfrecord"


def write_shards(rows, directory, split, num_shards):
    """Writes the int32 [n, t] `rows` as `num_shards` TFRecord files (some empty if n < N).

    Args:
      rows: a split's sequences, e.g. `SequenceData.train`.
      directory: where the files go (created if needed).
      split: the files' name prefix ("train", "valid", "test").
      num_shards: N >= 1.

    Returns:
      The N paths, in shard order.
    """
    if num_shards < 1:
        raise ValueError(f"num_shards must be >= 1, got {num_shards}")
    rows = np.asarray(rows)
    if rows.ndim != 2:
        raise ValueError(f"rows must be [n, seq_len], got shape {rows.shape}")
    pathlib.Path(directory).mkdir(parents=True, exist_ok=True)
    paths = []
    for index, part in enumerate(np.array_split(rows.astype("<i4"), num_shards)):
        path = shard_path(directory, split, index, num_shards)
        with tf.io.TFRecordWriter(str(path)) as writer:
            for row in part:
                writer.write(row.tobytes())
        paths.append(path)
    return paths


def read_shard(directory, split, seq_len, index, num_shards):
    """The rows of shard `index` of `num_shards`, in order, as a dataset of int32 [seq_len].

    Raises:
      DataError: `index` outside 0..N-1, or the shard file is missing.
    """
    if not 0 <= index < num_shards:
        raise DataError(f"shard index {index} is outside 0..{num_shards - 1}")
    path = shard_path(directory, split, index, num_shards)
    if not path.is_file():
        raise DataError(
            f"{path}: no such shard file (written by write_shards with N={num_shards}?)"
        )

    def parse(record):
        row = tf.io.decode_raw(record, tf.int32, little_endian=True)
        return tf.ensure_shape(row, [seq_len])

    return tf.data.TFRecordDataset(str(path)).map(parse, num_parallel_calls=tf.data.AUTOTUNE)
