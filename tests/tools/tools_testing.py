"""Shared by the tool tests: a tool under `tools/` run as a user runs it."""

import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]


def run_tool(name: str, *flags, timeout: int = 300) -> subprocess.CompletedProcess:
    """`python tools/<name> FLAGS` from the project root, TensorFlow quiet; the completed process
    (the tests read its exit code and output)."""
    return subprocess.run(
        [sys.executable, str(REPO / "tools" / name), *flags],
        cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
