"""serving/recommend.py: titles, the SavedModel of a directory, the printout, --mode=recommend."""

import os
import re

import pytest
from serving_testing import run_main

from skiprec_tf.errors import ConfigError, DataError
from skiprec_tf.serving.recommend import (
    _saved_model_path,
    describe_exclusion,
    format_recommendations,
    read_titles,
)
from skiprec_tf.training.run_dir import RunDir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_read_titles_of_movies_csv(tmp_path):
    path = tmp_path / "movies.csv"
    path.write_text(
        "movieId,title,genres\n"
        "1,Toy Story (1995),Adventure|Animation\n"
        '11,"American President, The (1995)",Comedy|Drama|Romance\n'
    )
    assert read_titles(str(path)) == {1: "Toy Story (1995)", 11: "American President, The (1995)"}


def test_read_titles_of_ml100k_u_item_in_latin_1(tmp_path):
    path = tmp_path / "u.item"
    path.write_bytes(
        "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|0|1\n"
        "1633|\u00c1 k\u00f6ldum klaka (Cold Fever) (1994)|08-Mar-1996||http://x|0|0\n".encode(
            "latin-1"
        )
    )
    assert read_titles(str(path)) == {
        1: "Toy Story (1995)",
        1633: "\u00c1 k\u00f6ldum klaka (Cold Fever) (1994)",
    }


def test_read_titles_of_ml1m_movies_dat_in_latin_1(tmp_path):
    path = tmp_path / "movies.dat"
    path.write_bytes(
        "1::Toy Story (1995)::Animation|Children's|Comedy\n"
        "3845::And God Created Woman (Et Dieu\xe9cr\xe9a la femme) (1956)::Drama\n\n".encode(
            "latin-1"
        )
    )
    assert read_titles(str(path)) == {
        1: "Toy Story (1995)",
        3845: "And God Created Woman (Et Dieu\xe9cr\xe9a la femme) (1956)",
    }


def test_read_titles_of_a_missing_file_names_it(tmp_path):
    path = str(tmp_path / "movies.csv")
    with pytest.raises(DataError, match=re.escape(path)):
        read_titles(path)


def test_saved_model_path_of_a_version_directory_is_itself(tmp_path):
    version = tmp_path / "m" / "3"
    version.mkdir(parents=True)
    (version / "saved_model.pb").write_bytes(b"")
    assert _saved_model_path(str(version)) == str(version)


def test_saved_model_path_of_a_model_directory_is_its_newest_version(tmp_path):
    for name in ("1", "2", "10", ".11-incomplete-x", "notes"):
        (tmp_path / name).mkdir()
    assert _saved_model_path(str(tmp_path)) == os.path.join(str(tmp_path), "10")


@pytest.mark.parametrize("exists", [False, True])
def test_saved_model_path_without_a_saved_model_names_the_flag(tmp_path, exists):
    path = tmp_path / "m"
    if exists:
        (path / ".1-incomplete-x").mkdir(parents=True)
    with pytest.raises(ConfigError, match=re.escape(f"--export_dir={path}: no SavedModel")):
        _saved_model_path(str(path))


def test_format_recommendations_with_and_without_titles():
    args = ([1, 2], [3, 4], [0.5, 0.25], 3, 1.234)
    assert format_recommendations(*args, titles={1: "One", 3: "Three"}).splitlines() == [
        "History (oldest first):",
        "  1 One",
        "  2",
        "Recommended:",
        "   1. 3 Three  (0.500)",
        "   2. 4  (0.250)",
        "Blocks run: 3; latency 1.2 ms (median of 5 calls, batch of 1)",
    ]
    assert format_recommendations(*args).splitlines()[1:6] == [
        "  1",
        "  2",
        "Recommended:",
        "   1. 3  (0.500)",
        "   2. 4  (0.250)",
    ]
    assert format_recommendations(*args, max_blocks=1).splitlines()[-1] == (
        "Blocks run: 3 (capped at --max_blocks=1); latency 1.2 ms (median of 5 calls, batch of 1)"
    )


def test_describe_exclusion_of_an_export_with_and_without_serving_info():
    assert describe_exclusion(True).startswith("History items: excluded")
    assert describe_exclusion(False).startswith("History items: may be recommended")
    assert "not recorded" in describe_exclusion(None)


@pytest.mark.slow
def test_recommend_command_prints_titles_blocks_and_latency(tiny_skiprec_run, tmp_path):
    item_ids = RunDir(tiny_skiprec_run).read_item_ids()
    history = [int(i) for i in item_ids[1:4]]
    movies = tmp_path / "movies.csv"
    movies.write_text(
        "movieId,title,genres\n" + "".join(f"{i},Film {i} (1999),Drama\n" for i in item_ids[1:])
    )
    result = run_main(
        "--mode=recommend", f"--run_dir={tiny_skiprec_run}",
        f"--items={','.join(map(str, history))}", f"--titles={movies}", "--top_k=3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    recommended = result.stdout.split("Recommended:")[1].splitlines()[1:4]
    assert all("(1999)" in line for line in recommended), result.stdout
    assert f"{history[0]} Film {history[0]} (1999)" in result.stdout
    assert "Blocks run:" in result.stdout and "ms (median" in result.stdout
    assert "History items: may be recommended" in result.stdout, result.stdout


@pytest.mark.slow
def test_recommend_command_with_a_budget_runs_at_most_max_blocks(tiny_skiprec_run):
    history = [int(i) for i in RunDir(tiny_skiprec_run).read_item_ids()[1:4]]
    result = run_main(
        "--mode=recommend", f"--run_dir={tiny_skiprec_run}",
        f"--items={','.join(map(str, history))}", "--top_k=3", "--max_blocks=0",
        "--exclude_history",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Blocks run: 0 (capped at --max_blocks=0);" in result.stdout, result.stdout
    assert "History items: excluded" in result.stdout, result.stdout
    recommended = result.stdout.split("Recommended:")[1].splitlines()[1:4]
    assert not any(line.split()[1] in map(str, history) for line in recommended), result.stdout


@pytest.mark.slow
def test_recommend_command_says_when_no_item_is_known(tiny_skiprec_run):
    result = run_main(
        "--mode=recommend", f"--run_dir={tiny_skiprec_run}", "--items=-1,999999999", "--top_k=2"
    )
    assert result.returncode == 0, result.stderr
    assert "No item of --items is in the model's catalogue" in result.stdout, result.stdout


@pytest.mark.slow
def test_export_command_prints_one_line(tiny_skiprec_run, tmp_path):
    result = run_main(
        "--mode=export", f"--run_dir={tiny_skiprec_run}", f"--export_dir={tmp_path}",
        "--model_name=tiny",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"Exported {tiny_skiprec_run} to {tmp_path}/tiny/1"]
    assert "Exported" not in result.stderr, result.stderr
