"""One call from a raw data file to a preprocessed, cached `SequenceData`."""

from skiprec_tf.data import cache, preprocess, readers


def load_sequence_data(
    path,
    fmt,
    *,
    min_user_items=10,
    min_item_users=5,
    seq_len=20,
    cut="subsequences",
    fractions=preprocess.DEFAULT_FRACTIONS,
    seed=0,
    cache_dir=None,
):
    """Reads `path` in format `fmt` and applies the paper's protocol, through the cache.

    Args:
      path: raw data file.
      fmt: a key of `readers.READERS`.
      min_user_items, min_item_users, seq_len, cut, fractions, seed: see
        `preprocess.build_sequence_data`.
      cache_dir: directory of cached results, or None for no caching.

    Returns:
      The `SequenceData`.

    Raises:
      ConfigError: an invalid option (checked before any file is read).
      DataError: unknown `fmt` or bad data.
    """
    readers.check_format(fmt)
    options = {
        "min_user_items": min_user_items,
        "min_item_users": min_item_users,
        "seq_len": seq_len,
        "cut": cut,
        "fractions": fractions,
    }
    preprocess.validate_options(**options)
    options["fractions"] = tuple(float(f) for f in fractions)

    def build():
        df = readers.read_interactions(path, fmt)
        return preprocess.build_sequence_data(df, **options, seed=seed)

    key = cache.cache_key(path, {**options, "fmt": fmt, "seed": seed})
    return cache.cached(cache_dir, key, build)
