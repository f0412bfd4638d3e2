"""Shared fixtures: a private data directory, cache and download switch for every test."""

import os

import nbformat
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


def write_notebook(path, *sources):
    """A tiny notebook whose first code cell (of ``sources``) is tagged ``parameters``."""
    cells = [nbformat.v4.new_code_cell(s) for s in sources]
    cells[0].metadata["tags"] = ["parameters"]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, path)
    return path
