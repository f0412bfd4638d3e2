"""Shared fixtures: a private data directory, cache and download switch for every test."""

import os

import pytest

from course_lib import data

# The real settings, before the fixture below hides them (tests that run real notebooks use them).
REAL_DATA_DIR = os.environ.get(data.DATA_DIR_ENV)
REAL_CACHE_DIR = os.environ.get(data.CACHE_DIR_ENV)


@pytest.fixture(autouse=True)
def isolated_data(tmp_path, monkeypatch):
    """No test sees the real datasets, the project cache or the network."""
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "data_dir"))
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(data.NO_DOWNLOAD_ENV, "1")
