"""The course runner: papermill execution, metrics.json, summary, failures and time limits."""

import json
import os
import uuid

import nbformat
import psutil
import pytest

from conftest import write_notebook
from course_tools import runner
from course_tools.__main__ import main


@pytest.mark.slow
def test_passing_and_failing_notebooks(tmp_path, capsys):
    good = write_notebook(tmp_path / "01_good.ipynb", "SCALE = 2",
                          "import course_lib as cl\ncl.record('good.answer', 21 * SCALE)")
    bad = write_notebook(tmp_path / "02_bad.ipynb", "X = 1", "y = 2", "z = X / 0")
    out = tmp_path / "build"
    status = main(["run", str(good), str(bad), "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 1
    assert json.loads((out / "metrics.json").read_text()) == {
        "01_good": {"good.answer": 42.0}, "02_bad": {}}
    assert (out / "01_good.ipynb").exists() and (out / "02_bad.ipynb").exists()
    assert "[1/2] 01_good: ok" in captured.out and "[2/2] 02_bad: failed" in captured.out
    assert "answer=42" in captured.out  # the summary table shows key metrics
    assert captured.out.splitlines()[-1] == "notebooks: 1 passed, 1 failed"
    assert "FAILED 02_bad.ipynb: cell In [3] ('z = X / 0'): ZeroDivisionError" in captured.err


@pytest.mark.slow
def test_time_limit_kills_papermill_and_its_kernel(tmp_path, monkeypatch):
    marker = f"timeout-test-{uuid.uuid4()}"
    monkeypatch.setenv("COURSE_RUNNER_TEST_MARKER", marker)  # inherited by papermill and kernel
    slow = write_notebook(tmp_path / "03_slow.ipynb", "X = 1", "import time\ntime.sleep(120)")
    result = runner.run_notebook(slow, tmp_path / "build", timeout=5)
    assert result.status == "timeout" and "time limit of 5 s" in result.error
    assert result.seconds < 25
    assert not _processes_with(marker), "papermill or its kernel outlived the time limit"


@pytest.mark.slow
def test_peak_memory_is_measured_and_limited(tmp_path, capsys):
    hungry = write_notebook(
        tmp_path / "04_hungry.ipynb", "MB = 400",
        "import time\nimport numpy as np\nblock = np.ones(MB * 2**20, np.uint8)\ntime.sleep(1)")
    status = main(["run", str(hungry), "--out", str(tmp_path / "build"), "--memory-limit", "300"])
    captured = capsys.readouterr()
    assert status == 1
    peak = float(captured.out.split("04_hungry")[-1].split()[2])  # summary row: status s MB
    assert 400 < peak < 1000
    assert "FAILED 04_hungry.ipynb: peak memory" in captured.err
    assert "above the limit of 300 MB" in captured.err


def _processes_with(marker):
    found = []
    for process in psutil.process_iter():
        try:
            if process.pid != os.getpid() and process.environ().get(
                    "COURSE_RUNNER_TEST_MARKER") == marker:
                found.append(process)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            pass
    return found


def test_summary_table_layout():
    results = [runner.RunResult(runner.NOTEBOOKS_DIR / "01_x.ipynb", "ok", 1.25,
                                {"x.a": 1.0, "x.b": 2.0, "x.c": 3.0, "x.d": 4.0}, peak_mb=812.4)]
    lines = runner.summary_table(results).splitlines()
    assert lines[0].split() == ["notebook", "status", "seconds", "peak", "MB", "key", "metrics"]
    assert set(lines[1]) == {"-"}
    assert lines[2].split()[:4] == ["01_x", "ok", "1.2", "812"]
    assert lines[2].endswith("a=1, b=2, c=3 (+1 more)")


def test_discover_finds_course_notebooks_in_order(tmp_path):
    for name in ("10_b.ipynb", "02_a.ipynb", "notes.ipynb", "3_c.ipynb"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in runner.discover(tmp_path)] == ["02_a.ipynb", "10_b.ipynb"]


@pytest.mark.slow
@pytest.mark.timeout(240)  # three notebook runs
def test_outputs_are_compared_with_the_committed_notebook(tmp_path, capsys):
    notebook = write_notebook(tmp_path / "05_shapes.ipynb", "N = 3", "print(list(range(N)))",
                              "# nbval-ignore-output: varies\nprint(__import__('random').random())")
    written = nbformat.read(notebook, as_version=4)
    written.cells[2].metadata["tags"] = ["nbval-ignore-output"]
    nbformat.write(written, notebook)
    runner.run_notebook(notebook, tmp_path / "first", timeout=60)  # "commit" an executed copy
    committed = tmp_path / "first" / notebook.name
    assert main(["run", str(committed), "--out", str(tmp_path / "again"),
                 "--compare-outputs"]) == 0
    edited = json.loads(committed.read_text())
    edited["cells"][1]["outputs"][0]["text"] = "[0, 1, 9]\n"
    committed.write_text(json.dumps(edited))
    assert main(["run", str(committed), "--out", str(tmp_path / "third"),
                 "--compare-outputs"]) == 1
    captured = capsys.readouterr()
    assert "05_shapes: differs" in captured.out
    assert ("FAILED 05_shapes.ipynb cell In [2] ('print(list(range(N)))'): output differs"
            in captured.err)
    assert "-[0, 1, 9]" in captured.err and "+[0, 1, 2]" in captured.err


def test_outputs_are_not_compared_under_other_parameters(tmp_path, monkeypatch):
    notebook = write_notebook(tmp_path / "06_x.ipynb", "N = 3", "print(N)")
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "fast.yaml").write_text("06_x:\n  N: 1\n")
    monkeypatch.setattr(runner.baselines, "PROFILES_DIR", profiles)
    with pytest.raises(runner.baselines.RegressionConfigError,
                       match="only be compared at the committed parameters.*sets N for 06_x"):
        runner.run_course([notebook], tmp_path / "out", 60, profile="fast",
                          compare_outputs=True)


@pytest.mark.slow
@pytest.mark.timeout(180)  # the runner's own limit is 120 s
def test_a_dead_kernel_fails_at_once_naming_the_cell(tmp_path):
    crash = write_notebook(tmp_path / "07_crash.ipynb", "X = 1",
                           "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)", "print(2)")
    result = runner.run_notebook(crash, tmp_path / "build", timeout=120)
    assert result.status == "failed" and result.seconds < 60
    assert result.error.startswith("cell In [2] ('import os, signal'): ")
    assert "Kernel died" in result.error
