"""An on-disk cache of preprocessed `SequenceData`, keyed by the raw file and the options."""

import hashlib
import json
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
    """Loads `<cache_dir>/<key>.npz` if present, else calls `build_fn()` and saves its result.

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
    if path.is_file():
        try:
            data = SequenceData.load(path)
            logging.info("Loaded preprocessed data from cache %s", path)
            return data
        except DataError as exc:
            logging.warning("Ignoring unreadable cache entry: %s", exc)
    data = build_fn()
    data.save(path)
    logging.info("Built preprocessed data and saved it to cache %s", path)
    return data
