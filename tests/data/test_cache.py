"""The on-disk cache of preprocessed data sets."""

import errno
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from skiprec_tf.data import cache, preprocess
from skiprec_tf.errors import DataError


def _data(marker=1):
    return preprocess.SequenceData(
        train=np.array([[0, 1, marker]]),
        valid=np.zeros((0, 3)),
        test=np.zeros((0, 3)),
        train_users=np.array([5]),
        valid_users=np.zeros(0),
        test_users=np.zeros(0),
        item_ids=np.arange(marker + 1),
        num_interactions=2,
    )


class _Builder:
    """A build_fn that counts its calls."""

    def __init__(self, marker=1):
        self.calls, self.marker = 0, marker

    def __call__(self):
        self.calls += 1
        return _data(self.marker)


@pytest.fixture
def raw_file(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating,timestamp\n1,2,3.0,4\n")
    return path


def test_cache_key_depends_on_options_not_their_order(raw_file):
    key = cache.cache_key(raw_file, {"seq_len": 20, "cut": "latest"})
    assert len(key) == 64
    assert key == cache.cache_key(raw_file, {"cut": "latest", "seq_len": 20})
    assert key != cache.cache_key(raw_file, {"cut": "latest", "seq_len": 10})


def test_cache_key_changes_when_the_file_changes(raw_file):
    key = cache.cache_key(raw_file, {})
    stat = raw_file.stat()
    os.utime(raw_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert cache.cache_key(raw_file, {}) != key


def test_cache_key_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        cache.cache_key(tmp_path / "missing.csv", {})


def test_cached_hit_does_not_build_again(tmp_path, caplog):
    build = _Builder()
    with caplog.at_level("INFO"):
        first = cache.cached(tmp_path / "cache", "k1", build)
        second = cache.cached(tmp_path / "cache", "k1", build)
    assert build.calls == 1
    assert (tmp_path / "cache" / "k1.npz").is_file()
    np.testing.assert_array_equal(first.train, second.train)
    assert "saved it to cache" in caplog.text and "Loaded preprocessed data" in caplog.text


def test_cached_miss_for_another_key(tmp_path):
    build = _Builder()
    cache.cached(tmp_path, "k1", build)
    cache.cached(tmp_path, "k2", build)
    assert build.calls == 2


def test_cached_none_disables_caching(tmp_path):
    build = _Builder()
    cache.cached(None, "k1", build)
    cache.cached(None, "k1", build)
    assert build.calls == 2


def _flip_a_byte_of_train(path):
    """Flips one bit in the middle of the stored `train` array (under a valid zip structure)."""
    contents = bytearray(path.read_bytes())
    at = contents.index(_data(2).train.tobytes()) + 4
    contents[at] ^= 0x10
    path.write_bytes(bytes(contents))


def _change_train_keep_checksum(path):
    with np.load(path) as npz:
        contents = dict(npz)
    contents["train"] = contents["train"] + 1
    np.savez(path, **contents)


def _write_format_1(path):
    """A file of the format before checksums: every array, no `sha256`."""
    data = _data(2)
    arrays = {name: getattr(data, name) for name in preprocess._ARRAYS}
    np.savez(path, num_interactions=np.int64(2), format_version=np.int64(1), **arrays)


def _write_npy(path):
    np.save(path.with_suffix(".npy"), np.arange(3))
    path.write_bytes(path.with_suffix(".npy").read_bytes())


BAD_ENTRIES = {
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "zip"),
    "flipped_byte": (_flip_a_byte_of_train, "CRC|checksum mismatch"),
    "changed_array_old_checksum": (_change_train_keep_checksum, "checksum mismatch"),
    "foreign_npz": (lambda p: np.savez(p, x=np.arange(3)), "missing train, valid"),
    "format_1_without_checksum": (_write_format_1, "format version 1, expected 2"),
    "npy": (_write_npy, "not a zip archive"),
    "text": (lambda p: p.write_text("userId,movieId\n1,2\n"), "not a zip archive"),
    "empty": (lambda p: p.write_bytes(b""), "not a zip archive"),
}


@pytest.mark.parametrize("damage", BAD_ENTRIES.values(), ids=BAD_ENTRIES.keys())
def test_a_bad_entry_is_rebuilt_with_a_warning_naming_it(tmp_path, caplog, damage):
    damage_fn, reason = damage
    path = tmp_path / "k1.npz"
    _data(2).save(path)
    damage_fn(path)
    build = _Builder(marker=3)
    with caplog.at_level("WARNING"):
        data = cache.cached(tmp_path, "k1", build)
    assert build.calls == 1 and data.num_items == 3
    warning = next(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert warning.startswith(f"Rebuilding the bad cache entry {path}: ")
    assert any(word in warning for word in reason.split("|")), warning
    assert preprocess.SequenceData.load(path).num_items == 3  # Replaced by the rebuilt data.


def test_a_leftover_temp_file_is_not_read_and_is_removed(tmp_path):
    # A killed process's write: complete but never renamed, or half written.
    _data(9).save(tmp_path / "other.npz")
    (tmp_path / "other.npz").rename(tmp_path / ".k1.npz.abc123.tmp")
    (tmp_path / ".k1.npz.def456.tmp").write_bytes(b"PK\x03\x04half")
    build = _Builder(marker=3)
    assert cache.cached(tmp_path, "k1", build).num_items == 3
    assert cache.cached(tmp_path, "k1", build).num_items == 3
    assert build.calls == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k1.npz"]


def test_a_lock_file_a_killed_process_left_does_not_block(tmp_path):
    (tmp_path / "k1.lock").write_text("")  # Its flock died with the process.
    assert cache.cached(tmp_path, "k1", _Builder(marker=3)).num_items == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k1.npz"]


def _full_disk(monkeypatch, tmp_path):
    def save(self, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(preprocess.SequenceData, "save", save)
    return tmp_path / "cache"


def _under_a_file(monkeypatch, tmp_path):
    (tmp_path / "file").write_text("")
    return tmp_path / "file" / "cache"  # Can be neither created nor written.


@pytest.mark.parametrize("cache_dir_fn", [_full_disk, _under_a_file])
def test_an_entry_that_cannot_be_saved_still_returns_the_data(
    tmp_path, monkeypatch, caplog, cache_dir_fn
):
    cache_dir = cache_dir_fn(monkeypatch, tmp_path)
    build = _Builder(marker=3)
    with caplog.at_level("WARNING"):
        assert cache.cached(cache_dir, "k1", build).num_items == 3
    assert build.calls == 1
    assert f"could not save it to cache {cache_dir / 'k1.npz'}" in caplog.text
    assert not (cache_dir / "k1.npz").exists() and not (cache_dir / "k1.lock").exists()


# Waits until every process is ready, then asks the cache for the same key; the build is slow and
# leaves a marker file. Prints the data it got.
_RACER = """
import json, os, pathlib, sys, time
import numpy as np
from skiprec_tf.data import cache, preprocess

cache_dir, work, index, count = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
(work / f"ready{index}").touch()
deadline = time.monotonic() + 20
while len(list(work.glob("ready*"))) < count and time.monotonic() < deadline:
    time.sleep(0.01)

def build():
    (work / f"built{index}").touch()
    time.sleep(0.5)
    return preprocess.SequenceData(
        train=np.array([[0, 1, 2]]), valid=np.zeros((0, 3)), test=np.zeros((0, 3)),
        train_users=np.array([5]), valid_users=np.zeros(0), test_users=np.zeros(0),
        item_ids=np.arange(3), num_interactions=2,
    )

data = cache.cached(cache_dir, "k1", build)
print(json.dumps([data.train.tolist(), data.item_ids.tolist(), data.num_interactions]))
"""


def test_processes_starting_at_once_on_one_key_build_it_once(tmp_path):
    root = str(pathlib.Path(__file__).resolve().parents[2])
    work, count = tmp_path / "work", 2
    work.mkdir()
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, str(tmp_path / "cache"), str(work), str(i), str(count)],
            env={**os.environ, "PYTHONPATH": root},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(count)
    ]
    outputs = [racer.communicate(timeout=60) for racer in racers]
    for racer, (_, stderr) in zip(racers, outputs):
        assert racer.returncode == 0, stderr
    assert [json.loads(out) for out, _ in outputs] == [[[[0, 1, 2]], [0, 1, 2], 2]] * count
    assert len(list(work.glob("built*"))) == 1
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["k1.npz"]
