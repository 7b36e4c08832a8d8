"""The paper's data protocol: filter, re-index, order by time, cut into sequences, split, save."""

import dataclasses
import hashlib
import os
import pathlib
import tempfile
import zipfile

import numpy as np
import pandas as pd
from absl import logging

from skiprec_tf.config import (
    CUTS,
    DataConfig,
    check_at_least,
    check_choice,
    check_fractions,
    check_seq_len,
)
from skiprec_tf.errors import DataError

# 2: adds `sha256`, the checksum of the contents.
_FORMAT_VERSION = 2
_WHAT = ("rows", "users", "items")
_ARRAYS = ("train", "valid", "test", "train_users", "valid_users", "test_users", "item_ids")


def validate_options(*, min_user_items, min_item_users, seq_len, cut, fractions):
    """Checks the protocol's options with the config's rules, raising `ConfigError` naming one."""
    check_at_least("min_user_items", min_user_items, 0)
    check_at_least("min_item_users", min_item_users, 0)
    check_seq_len("seq_len", seq_len)
    check_choice("cut", cut, CUTS)
    check_fractions("fractions", fractions)


def filter_interactions(df, min_user_items, min_item_users):
    """Drops users with fewer than `min_user_items` rows and items with fewer than `min_item_users`.

    The two filters alternate (users, then items) until neither drops anything, so every remaining
    user has at least `min_user_items` interactions and every remaining item at least
    `min_item_users`: this fixed point is the unique largest subset meeting both thresholds, so it
    does not depend on the order. On ml-latest-small (90,274 / 610 / 3,650) and ml-100k
    (99,287 / 943 / 1,349) it equals the data README's counts, as do both single passes (users then
    items, items then users), since there every user keeps at least 10 items after the item filter.

    Args:
      df: interactions with columns `user`, `item`, `timestamp`.
      min_user_items: smallest number of interactions a user keeps.
      min_item_users: smallest number of interactions an item keeps.

    Returns:
      `(filtered df, counts)`; `counts` maps `user_filter_dropped_rows` (`_users`, `_items`), the
      same for `item_filter`, and `rounds` to ints.

    Raises:
      DataError: nothing is left; the message names both thresholds and the filter that dropped
        the last rows.
    """
    check_at_least("min_user_items", min_user_items, 0)
    check_at_least("min_item_users", min_item_users, 0)
    counts = {f"{f}_dropped_{w}": 0 for f in ("user_filter", "item_filter") for w in _WHAT}
    counts["rounds"] = 0
    original, emptied_by = df, None
    while True:
        counts["rounds"] += 1
        df, by_users = _drop_rare(df, "user", min_user_items)
        if df.empty and emptied_by is None:
            emptied_by = f"users with < {min_user_items} items (the user filter)"
        df, by_items = _drop_rare(df, "item", min_item_users)
        if df.empty and emptied_by is None:
            emptied_by = f"items with < {min_item_users} users (the item filter)"
        for name, dropped in (("user_filter", by_users), ("item_filter", by_items)):
            for what, n in zip(_WHAT, dropped):
                counts[f"{name}_dropped_{what}"] += n
        # Every user passed just before the item filter, so if it dropped nothing both hold.
        if not by_items[0] or df.empty:
            break
    _log_filter(counts, min_user_items, min_item_users)
    if df.empty:
        raise DataError(
            "no interactions left after filtering "
            f"(min_user_items={min_user_items}, min_item_users={min_item_users}): dropping "
            f"{emptied_by} removed the last rows in round {counts['rounds']}; before filtering "
            f"{_sizes(original)}"
        )
    return df.reset_index(drop=True), counts


def _sizes(df):
    """`N rows, U users (at most M items each), I items (at most K users each)`."""
    if df.empty:
        return "there were no rows"
    per_user, per_item = df["user"].value_counts(), df["item"].value_counts()
    return (
        f"{len(df)} rows, {len(per_user)} users (at most {per_user.max()} items each), "
        f"{len(per_item)} items (at most {per_item.max()} users each)"
    )


def _drop_rare(df, column, minimum):
    """Drops rows whose `column` value occurs fewer than `minimum` times; returns dropped counts."""
    codes, uniques = pd.factorize(df[column])
    sizes = np.bincount(codes, minlength=len(uniques))
    keep = sizes[codes] >= minimum
    if keep.all():
        return df, (0, 0, 0)
    other = "item" if column == "user" else "user"
    kept = df[keep]
    dropped = {
        column: int((sizes < minimum).sum()),
        other: df[other].nunique() - kept[other].nunique(),
    }
    return kept, (int((~keep).sum()), dropped["user"], dropped["item"])


def _log_filter(counts, min_user_items, min_item_users):
    """Logs what each filter dropped."""
    for name, label in (
        ("user_filter", f"users with < {min_user_items} items"),
        ("item_filter", f"items with < {min_item_users} users"),
    ):
        logging.info(
            "Filter %s dropped %d rows, %d users, %d items",
            label,
            *(counts[f"{name}_dropped_{what}"] for what in _WHAT),
        )
    logging.info("Filtering reached a fixed point after %d round(s)", counts["rounds"])


def reindex_items(df):
    """Maps raw item ids to 1..V by ascending raw id; 0 is left for padding.

    Returns:
      `(df with item in 1..V, item_ids)` where `item_ids` is int64 [V + 1], `item_ids[i]` the raw
      id of internal id `i` and `item_ids[0] = 0`.
    """
    codes, uniques = pd.factorize(df["item"], sort=True)
    item_ids = np.concatenate([[0], np.asarray(uniques, dtype=np.int64)]).astype(np.int64)
    return df.assign(item=codes.astype(np.int64) + 1), item_ids


def sort_by_time(df):
    """Orders rows by user, then timestamp; stable, so ties keep their file order."""
    return df.iloc[_time_order(df)].reset_index(drop=True)


def items_by_user(df):
    """Returns `{user: int64 array of the user's items in time order}`, users ascending."""
    if df.empty:
        return {}
    order = _time_order(df)
    users = df["user"].to_numpy()[order]
    items = df["item"].to_numpy(dtype=np.int64)[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    return dict(zip(users[starts].tolist(), np.split(items, starts[1:])))


def _time_order(df):
    """Stable argsort of the rows by (user, timestamp)."""
    users, times = df["user"].to_numpy(), df["timestamp"].to_numpy()
    if not len(times):
        return np.zeros(0, dtype=np.int64)
    codes, uniques = pd.factorize(users, sort=True)
    t_min, span = int(times.min()), int(times.max()) - int(times.min()) + 1
    if len(uniques) * span >= 2**63:
        return np.lexsort((times, users))
    # One stable sort of a combined int64 key is ~5x faster than np.lexsort on ML-20M.
    return np.argsort(codes.astype(np.int64) * span + (times - t_min), kind="stable")


def cut_sequences(items_per_user, seq_len, cut):
    """Cuts each user's time-ordered items into rows of length `seq_len`, left-padded with 0.

    `cut="subsequences"` (paper, ML20/ML100): consecutive chunks counted from the newest item, so
    the newest chunk is full and only the oldest may be padded; chunks of fewer than 2 items (no
    next-item target) are dropped. `cut="latest"` (Weishi): only the newest `seq_len` items of each
    user; users with fewer than 2 items are dropped. Rows go by user, oldest chunk first.

    Args:
      items_per_user: `{user: 1-D array of item ids >= 1, oldest first}`.
      seq_len: row length t (>= 2).
      cut: "subsequences" or "latest".

    Returns:
      `(rows, users)`: int32 [n, seq_len] and int64 [n], the user of each row.
    """
    check_seq_len("seq_len", seq_len)
    check_choice("cut", cut, CUTS)
    users = np.fromiter(items_per_user.keys(), dtype=np.int64, count=len(items_per_user))
    lengths = np.fromiter((len(v) for v in items_per_user.values()), np.int64, count=len(users))
    flat = _concatenate_items(items_per_user.values())
    owner = np.repeat(np.arange(len(users)), lengths)
    # Distance of each item from its user's newest item: 0 for the newest.
    age = np.repeat(np.cumsum(lengths) - 1, lengths) - np.arange(len(flat))
    if cut == "latest":
        rows_per_user = np.minimum(lengths, 1)
        row, keep_item = owner, age < seq_len
    else:
        rows_per_user = -(-lengths // seq_len)
        first_row = np.cumsum(rows_per_user) - rows_per_user
        row = first_row[owner] + rows_per_user[owner] - 1 - age // seq_len
        keep_item = np.ones(len(flat), dtype=bool)
    n_rows = int(rows_per_user.sum())
    rows = np.zeros((n_rows, seq_len), dtype=np.int32)
    rows[row[keep_item], seq_len - 1 - age[keep_item] % seq_len] = flat[keep_item]
    row_users = np.repeat(users, rows_per_user)
    long_enough = np.bincount(row[keep_item], minlength=n_rows) >= 2
    logging.info(
        "Cut %d users into %d sequences of length %d (cut=%s); dropped %d %s with < 2 items",
        len(users),
        int(long_enough.sum()),
        seq_len,
        cut,
        int((~long_enough).sum()),
        "users" if cut == "latest" else "chunks",
    )
    return rows[long_enough], row_users[long_enough]


def _concatenate_items(arrays):
    """Concatenates the per-user item arrays, checking they fit the int32 output and skip 0."""
    arrays = [np.asarray(a, dtype=np.int64).ravel() for a in arrays]
    flat = np.concatenate(arrays) if arrays else np.zeros(0, np.int64)
    if len(flat) and (flat.min() < 1 or flat.max() > np.iinfo(np.int32).max):
        raise DataError(
            f"item ids must be in 1..{np.iinfo(np.int32).max} (0 is padding; re-index first), "
            f"got {flat.min()}..{flat.max()}"
        )
    return flat


def split_sequences(n, fractions=DataConfig.fractions, seed=0):
    """Randomly splits `n` rows into train / valid / test.

    Uses one permutation from `numpy.random.default_rng(seed)`; sizes are rounded at the
    cumulative boundaries, so they always add up to `n`. Each index array is sorted.

    Returns:
      `(train, valid, test)` int64 index arrays covering `range(n)` exactly once.
    """
    fractions = check_fractions("fractions", fractions)
    check_at_least("n", n, 0)
    permutation = np.random.default_rng(seed).permutation(n)
    bounds = np.round(np.cumsum(fractions)[:2] * n).astype(np.int64)
    parts = np.split(permutation, bounds)
    return tuple(np.sort(p).astype(np.int64) for p in parts)


@dataclasses.dataclass(frozen=True, eq=False)
class SequenceData:
    """A preprocessed data set: padded item sequences split into train / valid / test.

    Attributes:
      train, valid, test: int32 [n, seq_len] internal item ids, 0 = padding (left).
      train_users, valid_users, test_users: int64 [n], the raw user id of each row.
      item_ids: int64 [V + 1], the raw id of each internal item id (`item_ids[0] = 0`).
      num_interactions: interactions left after filtering.
    """

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    train_users: np.ndarray
    valid_users: np.ndarray
    test_users: np.ndarray
    item_ids: np.ndarray
    num_interactions: int

    def __post_init__(self):
        for name in _ARRAYS:
            dtype = np.int32 if name in ("train", "valid", "test") else np.int64
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=dtype))
        object.__setattr__(self, "num_interactions", int(self.num_interactions))
        for split in ("train", "valid", "test"):
            rows, users = getattr(self, split), getattr(self, f"{split}_users")
            if rows.ndim != 2 or rows.shape[1] != self.train.shape[1]:
                raise DataError(
                    f"{split} must be [n, seq_len={self.train.shape[1]}], got {rows.shape}"
                )
            if users.shape != (len(rows),):
                raise DataError(f"{split}_users must have shape ({len(rows)},), got {users.shape}")
        if self.item_ids.ndim != 1 or not len(self.item_ids):
            raise DataError(f"item_ids must be [V + 1], got shape {self.item_ids.shape}")

    @property
    def num_items(self):
        """V, the number of real items (padding excluded)."""
        return len(self.item_ids) - 1

    @property
    def seq_len(self):
        """t, the length of every row."""
        return self.train.shape[1]

    @property
    def num_sequences(self):
        """Rows over all three splits."""
        return len(self.train) + len(self.valid) + len(self.test)

    def save(self, path):
        """Writes a single `.npz` atomically: a temp file in the same directory, then `os.replace`.

        The file holds a sha256 of its contents, which `load` checks.
        """
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        arrays["num_interactions"] = np.int64(self.num_interactions)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(
                    f,
                    format_version=np.int64(_FORMAT_VERSION),
                    sha256=np.str_(_checksum(arrays)),
                    **arrays,
                )
            os.replace(tmp, path)
        except BaseException:
            pathlib.Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path):
        """Reads a file written by `save`.

        Raises:
          DataError: a missing, foreign or truncated file, or a corrupted one (checksum mismatch).
        """
        path = pathlib.Path(path)
        if not path.is_file():
            raise DataError(f"{path}: no such file")
        if not zipfile.is_zipfile(path):
            raise DataError(f"{path}: not a SequenceData .npz file (not a zip archive)")
        try:
            with np.load(path, allow_pickle=False) as npz:
                contents = {name: npz[name] for name in npz.files}
        except Exception as exc:  # A damaged zip or .npy fails in many ways (zipfile, numpy).
            raise DataError(f"{path}: not a SequenceData .npz file ({exc})") from exc
        missing = [k for k in (*_ARRAYS, "num_interactions", "format_version") if k not in contents]
        if missing:
            raise DataError(f"{path}: not a SequenceData file, missing {', '.join(missing)}")
        version = contents["format_version"].tolist()
        if version != _FORMAT_VERSION:
            raise DataError(
                f"{path}: format version {version}, expected {_FORMAT_VERSION}; "
                "delete it to rebuild"
            )
        if str(contents.get("sha256")) != _checksum(contents):
            raise DataError(f"{path}: checksum mismatch, the file is corrupted")
        return cls(
            **{k: contents[k] for k in _ARRAYS}, num_interactions=contents["num_interactions"]
        )


def _checksum(arrays):
    """The sha256 hex digest of the name, dtype, shape and bytes of each array of a saved file."""
    digest = hashlib.sha256(f"SequenceData {_FORMAT_VERSION}".encode())
    for name in (*_ARRAYS, "num_interactions"):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f" {name} {array.dtype.str} {array.shape}".encode())
        digest.update(array.data)
    return digest.hexdigest()


def build_sequence_data(df, *, min_user_items, min_item_users, seq_len, cut, fractions, seed):
    """Filters, re-indexes, orders by time, cuts and splits raw interactions (the paper's protocol).

    Args:
      df: reader output with columns `user`, `item`, `timestamp`.
      min_user_items: drop users with fewer interactions (paper: 10).
      min_item_users: drop items with fewer interactions (paper: 5).
      seq_len: sequence length t (paper: 20 or 100 for MovieLens, 10 for Weishi).
      cut: "subsequences" (MovieLens) or "latest" (Weishi).
      fractions: train / valid / test fractions (paper: 0.8, 0.05, 0.15).
      seed: seed of the split permutation.

    Returns:
      The `SequenceData`.
    """
    validate_options(
        min_user_items=min_user_items,
        min_item_users=min_item_users,
        seq_len=seq_len,
        cut=cut,
        fractions=fractions,
    )
    df, _ = filter_interactions(df, min_user_items, min_item_users)
    df, item_ids = reindex_items(df)
    rows, users = cut_sequences(items_by_user(df), seq_len, cut)
    if not len(rows):
        raise DataError(f"no sequences with at least 2 items (seq_len={seq_len}, cut={cut})")
    train, valid, test = split_sequences(len(rows), fractions, seed)
    data = SequenceData(
        train=rows[train],
        valid=rows[valid],
        test=rows[test],
        train_users=users[train],
        valid_users=users[valid],
        test_users=users[test],
        item_ids=item_ids,
        num_interactions=len(df),
    )
    logging.info(
        "Built %d sequences (%d train, %d valid, %d test) over %d items",
        data.num_sequences,
        len(train),
        len(valid),
        len(test),
        data.num_items,
    )
    return data
