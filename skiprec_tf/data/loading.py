"""One call from a raw data file to a preprocessed, cached `SequenceData`."""

from skiprec_tf.config import DataConfig
from skiprec_tf.data import cache, files, preprocess, readers


def load_sequence_data(path, fmt, *, cache_dir=None, **protocol):
    """Reads `path` in format `fmt` and applies the paper's protocol, through the cache.

    Args:
      path: raw data file.
      fmt: a key of `readers.READERS`.
      cache_dir: directory of cached results, or None for no caching.
      **protocol: options of the protocol (`DataConfig.protocol`: min_user_items,
        min_item_users, seq_len, cut, fractions, seed); the others take `DataConfig`'s defaults.

    Returns:
      The `SequenceData`.

    Raises:
      ConfigError: an invalid option (checked before any file is read).
      DataError: unknown `fmt`, a missing, compressed or binary file (checked before the
        cache), or bad data.
    """
    readers.check_format(fmt)
    options = DataConfig().protocol
    unknown = set(protocol) - set(options)
    if unknown:
        raise TypeError(f"unknown protocol options {sorted(unknown)}; known: {sorted(options)}")
    options.update(protocol)
    seed = options.pop("seed")
    preprocess.validate_options(**options)
    options["fractions"] = tuple(float(f) for f in options["fractions"])
    # Before the cache key, which would only say "no such file".
    files.check_file(path)

    def build():
        df = readers.read_interactions(path, fmt)
        return preprocess.build_sequence_data(df, **options, seed=seed)

    key = cache.cache_key(path, {**options, "fmt": fmt, "seed": seed})
    return cache.cached(cache_dir, key, build)
