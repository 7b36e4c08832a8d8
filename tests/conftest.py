"""Shared pytest fixtures: the location of the real data sets, and the `integration` marker."""

import os
import pathlib

import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "integration: real-data or slow tests (need SKIPREC_DATA_DIR)"
    )


@pytest.fixture(scope="session")
def shared_data_dir():
    """The shared real data sets, from `SKIPREC_DATA_DIR`; skipped when unset, except in CI."""
    value = os.environ.get("SKIPREC_DATA_DIR")
    in_ci = os.environ.get("CI", "").lower() == "true"
    if not value:
        if in_ci:
            pytest.fail(
                "SKIPREC_DATA_DIR is not set but CI=true: CI must point it at the shared data "
                "sets (../shared/data from the project root)",
                pytrace=False,
            )
        pytest.skip(
            "SKIPREC_DATA_DIR is not set: real-data tests need the shared data sets (CI sets it)"
        )
    path = pathlib.Path(value)
    if not path.is_dir():
        pytest.fail(f"SKIPREC_DATA_DIR={value} is not a directory", pytrace=False)
    return path
