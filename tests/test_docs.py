"""The documents a user reads agree with the code: every test that docs/robustness.md names
exists, its row count is right, and the flags a resume may change are listed from one source."""

import ast
import os
import re

from skiprec_tf.config import RESUMABLE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _read(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        return f.read()


def _test_names(path):
    """The names of the test functions defined in the file `path`."""
    tree = ast.parse(_read(path))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_every_test_the_robustness_matrix_names_exists():
    text = _read("docs/robustness.md")
    named = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)", text)
    assert len(named) > 100
    missing = [f"{path}::{name}" for path, name in named if name not in _test_names(path)]
    assert not missing


def test_the_robustness_matrix_counts_its_rows():
    text = _read("docs/robustness.md")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    headers = [line for line in rows if line.startswith("| bad input | what the user sees")]
    stated = int(re.search(r"\((\d+) rows\)", text).group(1))
    assert stated == len(rows) - len(headers)


def test_the_docs_list_every_flag_a_resume_may_change():
    spans = {
        "README.md": r"flags given may change only (.*?), any other",
        "docs/robustness.md": r"only (--[\w, -]+?) may change",
    }
    for name, span in spans.items():
        text = " ".join(_read(name).split())  # lines rejoined
        listed = re.search(span, text).group(1)
        assert set(re.findall(r"--(\w+)", listed)) == RESUMABLE, (name, listed)
