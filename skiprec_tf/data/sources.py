"""From a `DataConfig` to a `SequenceData`: the embedded synthetic log or a data file."""

import numpy as np

from skiprec_tf.config import DataConfig
from skiprec_tf.data import synthetic
from skiprec_tf.data.loading import load_sequence_data
from skiprec_tf.data.preprocess import SequenceData, build_sequence_data
from skiprec_tf.errors import DataError


def load_data(config: DataConfig) -> SequenceData:
    """Reads (or generates), filters, cuts and splits the interactions of `config`."""
    if config.format == "synthetic":
        interactions, _ = synthetic_interactions(config)
        data = build_sequence_data(interactions, **config.protocol)
    else:
        data = load_sequence_data(
            config.path, config.format, cache_dir=config.cache_dir, **config.protocol
        )
    for split in ("train", "valid", "test"):
        if not len(getattr(data, split)):
            raise DataError(
                f"{config.path or config.name}: the {split} split is empty "
                f"({data.num_sequences} sequences, split {config.fractions})"
            )
    return data


def synthetic_interactions(config: DataConfig):
    """The synthetic log of `config` and the kind (`synthetic.EASY`/`HARD`) of every user."""
    return synthetic.generate_interactions(
        num_users=config.synthetic_users,
        num_items=config.synthetic_items,
        seq_len=config.seq_len,
        seed=config.seed,
    )


def user_groups(config: DataConfig):
    """`{"easy": user ids, "hard": user ids}` for the synthetic data set, else None."""
    if config.format != "synthetic":
        return None
    _, kinds = synthetic_interactions(config)
    users = np.arange(len(kinds))
    return {"easy": users[kinds == synthetic.EASY], "hard": users[kinds == synthetic.HARD]}
