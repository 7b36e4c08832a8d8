"""A data file before it is parsed: that it exists and is text, or how to download it."""

import pathlib

from skiprec_tf.errors import DataError

_SNIFF_BYTES = 8192
# The data sets that `tools/download_data.py` knows (its KNOWN_MD5), unpacked as
# `<data_dir>/<name>/`; a test keeps the two lists equal.
DOWNLOADABLE = ("ml-latest-small", "ml-1m", "ml-20m", "ml-25m")
# (leading bytes, what the file looks like, what to do).
_COMPRESSED = (
    (b"\x1f\x8b", "gzip-compressed", "decompress it first (gunzip)"),
    (b"PK\x03\x04", "like a zip archive", "unzip it and give the ratings file inside"),
    (b"BZh", "bzip2-compressed", "decompress it first (bunzip2)"),
    (b"\xfd7zXZ\x00", "xz-compressed", "decompress it first (unxz)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed", "decompress it first (unzstd)"),
)


def check_file(path):
    """Returns `path` as a `pathlib.Path`, raising `DataError` unless it is an existing text file.

    A missing file under a directory named after a data set of `tools/download_data.py` (such as
    `data/ml-20m/ratings.csv`) gets the command that downloads it; a compressed or binary file is
    named as such instead of failing later on undecodable lines.
    """
    path = pathlib.Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file{_download_hint(path)}")
    if not path.is_file():
        raise DataError(f"{path}: not a regular file")
    try:
        with open(path, "rb") as f:
            start = f.read(_SNIFF_BYTES)
    except OSError as exc:
        raise DataError(f"{path}: {exc.strerror}") from exc
    for magic, kind, advice in _COMPRESSED:
        if start.startswith(magic):
            raise DataError(f"{path}: looks {kind}, not text; {advice}")
    if b"\0" in start:
        raise DataError(
            f"{path}: looks binary, not text (NUL bytes in its first {len(start)} bytes); "
            "the readers need UTF-8 text"
        )
    return path


def _download_hint(path):
    """`; download it with ...` if a directory of `path` is named after a downloadable data set."""
    parts = path.parts[:-1]
    for i, part in enumerate(parts):
        if part in DOWNLOADABLE:
            data_dir = pathlib.Path(*parts[:i]) if i else pathlib.Path(".")
            return (
                f"; download it with `python tools/download_data.py {part} --data_dir={data_dir}`"
            )
    return ""
