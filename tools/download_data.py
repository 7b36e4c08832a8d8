"""Downloads GroupLens MovieLens archives, verifies their MD5 and unpacks them.

Usage (from the repository root):

    python tools/download_data.py ml-latest-small ml-1m ml-20m ml-25m --data_dir=data

Each archive `https://files.grouplens.org/datasets/movielens/<name>.zip` is
streamed into a temporary file inside `--data_dir`, checked against its MD5,
extracted into a temporary directory there and only then moved into place with
`os.replace`, so `<data_dir>/<name>/` (e.g. `data/ml-20m/ratings.csv`) either
holds a complete, verified data set or does not exist. A data set that is
already there is skipped. Only the standard library and absl are used.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from typing import IO

from absl import app, flags, logging

DEFAULT_BASE_URL = "https://files.grouplens.org/datasets/movielens"

# MD5 of each archive as published by GroupLens in `<name>.zip.md5`, embedded so
# that verification does not depend on fetching the .md5 file over the same
# channel as the archive. Values cross-checked in public code that copied them
# from the .md5 files: ml-1m and ml-20m in MLPerf training's
# `recommendation/verify_dataset.sh` ("From: curl -O .../ml-20m.zip.md5"),
# ml-1m, ml-20m and ml-25m in eli-osherovich/papers_with_code
# `datasets/movielens/dl_config.py`.
# ml-latest-small has no value here: GroupLens says the "latest" data sets
# change over time and no published digest could be found with confidence, so
# its MD5 is read from the `ml-latest-small.zip.md5` file next to the archive.
KNOWN_MD5: dict[str, str | None] = {
    "ml-latest-small": None,
    "ml-1m": "c4d9eecfca2ab87c1945afe126590906",
    "ml-20m": "cd245b17a1ae2cc31bb14903e1204af3",
    "ml-25m": "6b51fb2759a8657d3bfcbfc42b592ada",
}

# Files that best show where a data set landed, in order of preference.
_MAIN_FILES = ("ratings.csv", "ratings.dat")
_CHUNK_BYTES = 1 << 20
_PROGRESS_MIN_BYTES = 1 << 20

Opener = Callable[..., IO[bytes]]


class DownloadError(Exception):
    """A data set could not be fetched, verified or unpacked.

    The message is one line meant for the user, without a traceback.
    """


def check_names(names: list[str]) -> None:
    """Raises `DownloadError` listing the known names if any name is unknown."""
    known = ", ".join(KNOWN_MD5)
    if not names:
        raise DownloadError(f"no data set named; known data sets: {known}")
    unknown = [name for name in names if name not in KNOWN_MD5]
    if unknown:
        raise DownloadError(
            f"unknown data set {', '.join(map(repr, unknown))}; known data sets: {known}"
        )


def archive_url(name: str, base_url: str = DEFAULT_BASE_URL) -> str:
    """Returns the URL of the zip archive of data set `name`."""
    return f"{base_url.rstrip('/')}/{name}.zip"


def parse_md5_file(text: str) -> str:
    """Returns the digest from a checksum file's text.

    GroupLens writes BSD style, `MD5 (ml-20m.zip) = cd24...`; GNU style
    `cd24...  ml-20m.zip` and a bare digest are accepted too.

    Raises:
        DownloadError: if no 32-digit hexadecimal digest is found.
    """
    for word in text.replace("=", " ").split():
        word = word.strip().lower()
        if len(word) == 32 and all(c in "0123456789abcdef" for c in word):
            return word
    raise DownloadError(f"no MD5 digest found in checksum file: {text.strip()!r}")


def _open(url: str, opener: Opener, timeout: float) -> IO[bytes]:
    """Opens `url`, turning network failures into a one-line `DownloadError`."""
    try:
        return opener(url, timeout=timeout)
    except urllib.error.HTTPError as e:
        # The server answered, so the network is up: no "offline" hint.
        raise DownloadError(f"cannot download {url}: HTTP {e.code} {e.reason}") from e
    except urllib.error.URLError as e:
        raise DownloadError(f"cannot download {url}: {e.reason} (are you offline?)") from e
    except (OSError, http.client.HTTPException) as e:
        # socket.timeout, ConnectionError and friends are OSErrors.
        raise DownloadError(f"cannot download {url}: {e} (are you offline?)") from e


def _content_length(response: IO[bytes]) -> int | None:
    headers = getattr(response, "headers", None)
    value = headers.get("Content-Length") if headers is not None else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class _Progress:
    """Writes `bytes downloaded / total (percent)` to a stream, throttled."""

    def __init__(self, label: str, total: int | None, stream: IO[str], min_bytes: int):
        self._label = label
        self._total = total
        self._stream = stream
        # Small files finish before a progress line would be useful.
        self._enabled = total is None or total >= min_bytes
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last_time = 0.0
        self._last_percent = -1

    def update(self, done: int, final: bool = False) -> None:
        if not self._enabled:
            return
        if self._total:
            percent = min(100, done * 100 // self._total)
            text = f"{self._label}: {done / 1e6:.1f} MB / {self._total / 1e6:.1f} MB ({percent}%)"
        else:
            percent = -1
            text = f"{self._label}: {done / 1e6:.1f} MB"
        now = time.monotonic()
        if self._tty:
            # Redraw one line in place, at most a few times a second.
            if final or now - self._last_time >= 0.2:
                self._stream.write("\r" + text + ("\n" if final else ""))
                self._stream.flush()
                self._last_time = now
        elif (final and (percent < 0 or percent != self._last_percent)) or (
            percent >= 0 and percent // 10 > self._last_percent // 10
        ):
            # Logs get one line per 10% instead of carriage-return noise.
            self._stream.write(text + "\n")
            self._stream.flush()
            self._last_percent = percent
        elif percent < 0 and now - self._last_time >= 10.0:
            self._stream.write(text + "\n")
            self._stream.flush()
            self._last_time = now


def _download(
    url: str,
    out: IO[bytes],
    opener: Opener,
    timeout: float,
    progress_stream: IO[str],
    progress_min_bytes: int,
) -> str:
    """Streams `url` into `out` and returns the MD5 hex digest of the bytes."""
    digest = hashlib.md5()
    with _open(url, opener, timeout) as response:
        progress = _Progress(
            url.rsplit("/", 1)[-1],
            _content_length(response),
            progress_stream,
            progress_min_bytes,
        )
        done = 0
        progress.update(done)
        while True:
            try:
                chunk = response.read(_CHUNK_BYTES)
            except (OSError, http.client.HTTPException) as e:
                raise DownloadError(f"cannot download {url}: {e} (are you offline?)") from e
            if not chunk:
                break
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            progress.update(done)
        progress.update(done, final=True)
    return digest.hexdigest()


def published_md5(
    name: str,
    base_url: str = DEFAULT_BASE_URL,
    opener: Opener = urllib.request.urlopen,
    timeout: float = 60.0,
) -> str:
    """Fetches and parses `<base_url>/<name>.zip.md5`."""
    url = archive_url(name, base_url) + ".md5"
    with _open(url, opener, timeout) as response:
        try:
            text = response.read(4096).decode("ascii", errors="replace")
        except (OSError, http.client.HTTPException) as e:
            raise DownloadError(f"cannot download {url}: {e} (are you offline?)") from e
    return parse_md5_file(text)


def _content_root(extracted: str) -> str:
    """Returns the directory holding the data set's files.

    GroupLens archives hold one top-level folder (`ml-20m/ratings.csv`); an
    archive with loose files is used as is.
    """
    entries = os.listdir(extracted)
    if len(entries) == 1 and os.path.isdir(os.path.join(extracted, entries[0])):
        return os.path.join(extracted, entries[0])
    return extracted


def _main_file(dest: str) -> str:
    for filename in _MAIN_FILES:
        path = os.path.join(dest, filename)
        if os.path.isfile(path):
            return path
    return dest


def _is_present(dest: str) -> bool:
    if os.path.isdir(dest):
        return bool(os.listdir(dest))
    if os.path.exists(dest):
        raise DownloadError(f"{dest} exists and is not a directory")
    return False


def fetch(
    name: str,
    data_dir: str = "data",
    base_url: str = DEFAULT_BASE_URL,
    opener: Opener = urllib.request.urlopen,
    expected_md5: str | None = None,
    timeout: float = 60.0,
    progress_stream: IO[str] | None = None,
    progress_min_bytes: int = _PROGRESS_MIN_BYTES,
) -> str:
    """Downloads, verifies and unpacks one MovieLens data set.

    Args:
        name: A key of `KNOWN_MD5`, e.g. `"ml-20m"`.
        data_dir: Directory that receives `<name>/`; created if missing.
        base_url: Where `<name>.zip` (and `<name>.zip.md5`) live; a `file://`
            URL works too.
        opener: Called as `opener(url, timeout=...)`; returns a context manager
            with `read(n)` (like `urllib.request.urlopen`, the default).
        expected_md5: Digest to check against; by default the embedded
            `KNOWN_MD5[name]`, else the published `<name>.zip.md5`.
        timeout: Socket timeout in seconds.
        progress_stream: Where progress goes; `sys.stderr` by default.
        progress_min_bytes: Archives smaller than this show no progress.

    Returns:
        The data set's directory, `<data_dir>/<name>`.

    Raises:
        DownloadError: on an unknown name, a network failure, a checksum
            mismatch or a broken archive. Nothing is left behind in `data_dir`.
    """
    check_names([name])
    dest = os.path.join(data_dir, name)
    if _is_present(dest):
        print(f"{name}: already present in {dest}, skipping", file=sys.stderr)
        return dest
    url = archive_url(name, base_url)
    if expected_md5 is None:
        expected_md5 = KNOWN_MD5[name]
    if expected_md5 is None:
        logging.debug("Reading the published checksum of %s", url)
        expected_md5 = published_md5(name, base_url, opener, timeout)
    expected_md5 = expected_md5.lower()

    created_data_dir = not os.path.isdir(data_dir)
    os.makedirs(data_dir, exist_ok=True)
    fd, archive = tempfile.mkstemp(prefix=f".{name}.", suffix=".zip.part", dir=data_dir)
    extracted = None
    succeeded = False
    try:
        with os.fdopen(fd, "wb") as out:
            actual_md5 = _download(
                url,
                out,
                opener,
                timeout,
                progress_stream if progress_stream is not None else sys.stderr,
                progress_min_bytes,
            )
        if actual_md5 != expected_md5:
            raise DownloadError(
                f"checksum mismatch for {url}: expected MD5 {expected_md5}, "
                f"got {actual_md5}; the download was deleted"
            )
        extracted = tempfile.mkdtemp(prefix=f".{name}.", suffix=".extract", dir=data_dir)
        try:
            with zipfile.ZipFile(archive) as zf:
                # extractall drops `..` and absolute parts from member names.
                zf.extractall(extracted)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as e:
            raise DownloadError(f"{url} is not a valid zip archive: {e}") from e
        try:
            os.replace(_content_root(extracted), dest)
        except OSError as e:
            raise DownloadError(f"cannot move {name} into {dest}: {e}") from e
        succeeded = True
    finally:
        if os.path.exists(archive):
            os.remove(archive)
        if extracted is not None and os.path.exists(extracted):
            shutil.rmtree(extracted, ignore_errors=True)
        if created_data_dir and not succeeded:
            try:
                os.rmdir(data_dir)  # Only if still empty.
            except OSError:
                pass
    return dest


def define_flags() -> None:
    """Defines this binary's flags; called only when run as a script."""
    # Data
    flags.DEFINE_string("data_dir", "data", "Directory that receives one <name>/ per data set.")
    flags.DEFINE_string("base_url", DEFAULT_BASE_URL, "Where the <name>.zip archives are served.")
    # Network
    flags.DEFINE_float("timeout", 60.0, "Socket timeout in seconds.")


def main(argv: list[str]) -> int:
    names = argv[1:]
    data_dir = flags.FLAGS.data_dir
    base_url = flags.FLAGS.base_url
    timeout = flags.FLAGS.timeout
    try:
        check_names(names)
        for name in names:
            dest = fetch(name, data_dir, base_url=base_url, timeout=timeout)
            print(f"{name}: {_main_file(dest)}")
    except (DownloadError, OSError) as e:
        # OSError here is local (disk full, permissions): network errors are
        # already DownloadErrors.
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    define_flags()
    app.run(main)
