"""Tests for tools/download_data.py; they never touch the network."""

import hashlib
import importlib.util
import io
import os
import pathlib
import subprocess
import sys
import zipfile

import pytest

_REPO = pathlib.Path(__file__).resolve().parents[2]
_SCRIPT = _REPO / "tools" / "download_data.py"

# tools/ is not a package: load the script as a module (its flags are only
# defined under __main__, so importing it defines none).
_spec = importlib.util.spec_from_file_location("download_data", _SCRIPT)
download_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(download_data)

_FILES = {
    "ratings.csv": "userId,movieId,rating,timestamp\n1,2,3.5,1112486027\n",
    "movies.csv": "movieId,title,genres\n2,Jumanji (1995),Adventure\n",
}


def _zip_bytes(top: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for filename, text in _FILES.items():
            zf.writestr(f"{top}/{filename}", text)
    return buf.getvalue()


def _serve(directory: pathlib.Path, name: str, md5_file: bool = False) -> str:
    """Writes `<name>.zip` (and its .md5) into `directory`; returns a file:// base."""
    data = _zip_bytes(name)
    (directory / f"{name}.zip").write_bytes(data)
    if md5_file:
        digest = hashlib.md5(data).hexdigest()
        (directory / f"{name}.zip.md5").write_text(f"MD5 ({name}.zip) = {digest}\n")
    return directory.as_uri()


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(_SCRIPT), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=_REPO,
    )


@pytest.fixture
def dirs(tmp_path):
    served = tmp_path / "served"
    data = tmp_path / "data"
    served.mkdir()
    data.mkdir()
    return served, data


def test_good_checksum_extracts_into_data_dir_and_leaves_no_temp_files(dirs):
    served, data = dirs
    base = _serve(served, "ml-1m")
    digest = hashlib.md5((served / "ml-1m.zip").read_bytes()).hexdigest()

    dest = download_data.fetch("ml-1m", str(data), base_url=base, expected_md5=digest)

    assert dest == os.path.join(str(data), "ml-1m")
    assert (data / "ml-1m" / "ratings.csv").read_text() == _FILES["ratings.csv"]
    assert (data / "ml-1m" / "movies.csv").read_text() == _FILES["movies.csv"]
    assert sorted(os.listdir(data)) == ["ml-1m"]


def test_missing_embedded_checksum_uses_published_md5_file(dirs):
    served, data = dirs
    base = _serve(served, "ml-latest-small", md5_file=True)

    download_data.fetch("ml-latest-small", str(data), base_url=base)

    assert (data / "ml-latest-small" / "ratings.csv").is_file()


def test_bad_checksum_fails_and_leaves_nothing_behind(dirs):
    served, data = dirs
    # The embedded ml-20m digest belongs to the real archive, not this one.
    base = _serve(served, "ml-20m")

    with pytest.raises(download_data.DownloadError, match="checksum mismatch"):
        download_data.fetch("ml-20m", str(data), base_url=base)

    assert os.listdir(data) == []


def test_failure_removes_the_data_dir_it_created(dirs):
    served, data = dirs
    base = _serve(served, "ml-20m")
    new_dir = data / "new"

    with pytest.raises(download_data.DownloadError, match="checksum mismatch"):
        download_data.fetch("ml-20m", str(new_dir), base_url=base)

    assert not new_dir.exists()


def test_bad_published_checksum_fails_and_leaves_nothing_behind(dirs):
    served, data = dirs
    base = _serve(served, "ml-latest-small")
    (served / "ml-latest-small.zip.md5").write_text("0" * 32 + "  ml-latest-small.zip\n")

    with pytest.raises(download_data.DownloadError, match="expected MD5 0{32}"):
        download_data.fetch("ml-latest-small", str(data), base_url=base)

    assert os.listdir(data) == []


def test_broken_zip_fails_and_leaves_nothing_behind(dirs):
    served, data = dirs
    payload = b"not a zip"
    (served / "ml-1m.zip").write_bytes(payload)

    with pytest.raises(download_data.DownloadError, match="not a valid zip"):
        download_data.fetch(
            "ml-1m",
            str(data),
            base_url=served.as_uri(),
            expected_md5=hashlib.md5(payload).hexdigest(),
        )

    assert os.listdir(data) == []


def test_fake_opener_gets_the_archive_url_and_timeout(tmp_path):
    payload = _zip_bytes("ml-25m")
    calls = []

    def opener(url, timeout):
        calls.append((url, timeout))
        return io.BytesIO(payload)  # no headers: length unknown

    download_data.fetch(
        "ml-25m",
        str(tmp_path),
        base_url="https://example.invalid/movielens/",
        opener=opener,
        expected_md5=hashlib.md5(payload).hexdigest(),
        timeout=7.0,
        progress_stream=io.StringIO(),
    )

    assert calls == [("https://example.invalid/movielens/ml-25m.zip", 7.0)]
    assert (tmp_path / "ml-25m" / "ratings.csv").is_file()


def test_present_data_is_skipped_without_opening_anything(tmp_path, capsys):
    (tmp_path / "ml-1m").mkdir()
    (tmp_path / "ml-1m" / "ratings.dat").write_text("1::2::3::4\n")

    def opener(url, timeout):
        raise AssertionError(f"should not open {url}")

    dest = download_data.fetch("ml-1m", str(tmp_path), opener=opener)

    assert dest == os.path.join(str(tmp_path), "ml-1m")
    assert "already present" in capsys.readouterr().err


def test_progress_reports_bytes_and_percent(dirs):
    served, data = dirs
    base = _serve(served, "ml-1m")
    payload = (served / "ml-1m.zip").read_bytes()
    stream = io.StringIO()

    download_data.fetch(
        "ml-1m",
        str(data),
        base_url=base,
        expected_md5=hashlib.md5(payload).hexdigest(),
        progress_stream=stream,
        progress_min_bytes=0,
    )

    last = stream.getvalue().strip().splitlines()[-1]
    assert last.startswith("ml-1m.zip: ")
    assert last.endswith("(100%)")
    assert stream.getvalue().count("(100%)") == 1


def test_connection_refused_is_an_offline_download_error(tmp_path):
    with pytest.raises(download_data.DownloadError) as info:
        download_data.fetch("ml-1m", str(tmp_path), base_url="http://127.0.0.1:9", timeout=5)

    message = str(info.value)
    assert message.startswith("cannot download http://127.0.0.1:9/ml-1m.zip: ")
    assert message.endswith("(are you offline?)")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "text",
    [
        "MD5 (ml-1m.zip) = C4D9EECFCA2AB87C1945AFE126590906\n",
        "c4d9eecfca2ab87c1945afe126590906  ml-1m.zip\n",
        "c4d9eecfca2ab87c1945afe126590906",
    ],
)
def test_parse_md5_file_formats(text):
    assert download_data.parse_md5_file(text) == "c4d9eecfca2ab87c1945afe126590906"


def test_parse_md5_file_without_digest_fails():
    with pytest.raises(download_data.DownloadError, match="no MD5 digest"):
        download_data.parse_md5_file("<html>Not Found</html>")


def test_unknown_name_lists_known_names():
    with pytest.raises(download_data.DownloadError) as info:
        download_data.check_names(["ml-1m", "ml-30m"])

    assert "'ml-30m'" in str(info.value)
    for name in download_data.KNOWN_MD5:
        assert name in str(info.value)


def test_cli_extracts_and_prints_where_it_put_the_data(dirs):
    served, data = dirs
    base = _serve(served, "ml-latest-small", md5_file=True)

    result = _run("ml-latest-small", f"--data_dir={data}", f"--base_url={base}")

    assert result.returncode == 0, result.stderr
    expected = os.path.join(str(data), "ml-latest-small", "ratings.csv")
    assert result.stdout.strip() == f"ml-latest-small: {expected}"

    again = _run("ml-latest-small", f"--data_dir={data}", f"--base_url={base}")
    assert again.returncode == 0, again.stderr
    assert "already present" in again.stderr


def test_cli_offline_prints_one_line_and_exits_1(tmp_path):
    result = _run("ml-latest-small", f"--data_dir={tmp_path}", "--base_url=http://127.0.0.1:9")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot download http://127.0.0.1:9/ml-latest-small.zip")
    assert lines[0].endswith("(are you offline?)")
    assert os.listdir(tmp_path) == []


def test_cli_unknown_name_exits_1_with_known_names(tmp_path):
    result = _run("ml-30m", f"--data_dir={tmp_path}")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: unknown data set 'ml-30m'")
    for name in download_data.KNOWN_MD5:
        assert name in lines[0]
    assert not (tmp_path / "ml-30m").exists()
