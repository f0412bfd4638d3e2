"""Proof that the course needs no network: a data-loading notebook runs with downloads allowed
but every non-loopback connection refused (tests/notebooks/offline_guard/sitecustomize.py)."""

from pathlib import Path

import nbformat
import pytest

from conftest import REAL_CACHE_DIR, REAL_DATA_DIR
from course_lib import data
from course_tools import runner

GUARD = Path(__file__).parent / "offline_guard"


@pytest.fixture
def offline(monkeypatch):
    """Real dataset locations, downloads allowed, network blocked for every child process."""
    for name, value in ((data.DATA_DIR_ENV, REAL_DATA_DIR), (data.CACHE_DIR_ENV, REAL_CACHE_DIR)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.setenv(data.NO_DOWNLOAD_ENV, "0")
    monkeypatch.setenv("PYTHONPATH", str(GUARD))


@pytest.mark.slow
@pytest.mark.timeout(180)  # the runner's own limit is 120 s
def test_the_guard_really_blocks_the_network(offline, tmp_path):
    probe = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("X = 1"),
        nbformat.v4.new_code_cell(
            "import urllib.request\n"
            "urllib.request.urlopen('https://storage.googleapis.com/', timeout=5)")])
    probe.cells[0].metadata["tags"] = ["parameters"]
    probe.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}
    path = tmp_path / "99_probe.ipynb"
    nbformat.write(probe, path)
    result = runner.run_notebook(path, tmp_path / "out", timeout=120)
    assert result.status == "failed" and "blocked by the course's offline test" in result.error


@pytest.mark.slow
@pytest.mark.timeout(400)  # notebook 00 with its 300 s limit
def test_welcome_notebook_loads_and_verifies_all_data_offline(offline, tmp_path):
    if not all(row["status"].startswith("ok") for row in data.check_all(download=False)):
        pytest.skip("the datasets are not available locally (set COURSE_DATA_DIR)")
    notebook = runner.NOTEBOOKS_DIR / "00_welcome.ipynb"
    result = runner.run_notebook(notebook, tmp_path, timeout=300)
    assert result.status == "ok", result.error
    assert result.metrics["welcome.dataset_files_verified"] == sum(
        len(d.files) for d in [*data.REGISTRY.values(), *data.PACKAGED.values()])

