"""An on-disk cache of preprocessed `SequenceData`, keyed by the raw file and the options.

An entry `<cache_dir>/<key>.npz` is written atomically (`SequenceData.save`: a temp file, then
`os.replace`) and checked when read (`SequenceData.load`: format, checksum, shapes); a bad entry is
rebuilt. An exclusive lock on `<key>.lock` lets one process build a key while the others wait for
it, then load what it saved.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import pathlib

from absl import logging

from skiprec_tf.data.preprocess import SequenceData
from skiprec_tf.errors import DataError

# Bump when preprocessing changes what it produces, so old cache entries are not reused.
CACHE_VERSION = 1


def cache_key(path, options):
    """Returns a sha256 hex digest of the file's absolute path, size, mtime_ns and `options`.

    Args:
      path: the raw data file.
      options: JSON-serialisable preprocessing options (tuples become lists; keys are sorted).
    """
    path = pathlib.Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: {exc.strerror}") from exc
    payload = {
        "path": str(path.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "options": options,
        "version": CACHE_VERSION,
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cached(cache_dir, key, build_fn):
    """Loads `<cache_dir>/<key>.npz` if valid, else calls `build_fn()` and saves its result.

    A truncated, corrupted or foreign entry is logged and rebuilt (never read as data). If the entry
    cannot be saved (a read-only directory, a full disk), that is logged and the data is returned
    anyway.

    Args:
      cache_dir: cache directory (created if needed), or None to always build without caching.
      key: e.g. from `cache_key`.
      build_fn: no-argument callable returning a `SequenceData`.

    Returns:
      The `SequenceData`.
    """
    if cache_dir is None:
        return build_fn()
    path = pathlib.Path(cache_dir) / f"{key}.npz"
    with _locked(path.with_suffix(".lock")) as locked:
        if locked:
            _remove_temp_files(path)
        data = _load(path)
        if data is None:
            data = build_fn()
            _save(data, path)
    return data


def _load(path):
    """The entry at `path`, or None if there is none or it is bad (logged with the reason)."""
    if not path.is_file():
        return None
    try:
        data = SequenceData.load(path)
    except DataError as exc:
        logging.warning("Rebuilding the bad cache entry %s", exc)
        return None
    logging.info("Loaded preprocessed data from cache %s", path)
    return data


def _save(data, path):
    """Saves `data` as the entry at `path`; a failure is logged, not raised."""
    try:
        data.save(path)
    except OSError as exc:
        logging.warning(
            "Built preprocessed data but could not save it to cache %s (%s); going on without it",
            path,
            exc,
        )
        return
    logging.info("Built preprocessed data and saved it to cache %s", path)


def _remove_temp_files(path):
    """Removes the temp files of `SequenceData.save` that a killed process left for `path`."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            tmp.unlink()
            logging.info("Removed %s, a cache write a killed process left", tmp)
        except OSError:
            pass


@contextlib.contextmanager
def _locked(lock_path):
    """Holds an exclusive lock on `lock_path` (removed on exit); yields whether it could be taken.

    Without the lock (e.g. a read-only directory) the caller goes on: entries are still written
    atomically, only two processes may then both build one.
    """
    try:
        fd = _lock(lock_path)
    except OSError as exc:
        logging.info("Cannot lock %s (%s); going on without the lock", lock_path, exc)
        yield False
        return
    try:
        yield True
    finally:
        lock_path.unlink(missing_ok=True)  # Before unlocking: see `_lock`.
        os.close(fd)


def _lock(lock_path):
    """Opens and `flock`s `lock_path`, waiting for another holder; returns the file descriptor.

    A holder removes the file before it unlocks, so a waiter that gets the lock of a removed file
    opens the path again.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                logging.info(
                    "Waiting for another process to build the cache entry of %s", lock_path
                )
                fcntl.flock(fd, fcntl.LOCK_EX)
            if _is_file_at(fd, lock_path):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


def _is_file_at(fd, path):
    """Whether the open file `fd` is the file now at `path`."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False
