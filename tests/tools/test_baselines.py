"""Regression checks: directions, tolerances, missing and unknown metrics, profiles, baselines."""

import json

import nbformat
import pytest
import yaml

from conftest import write_notebook
from course_tools import baselines, runner
from course_tools.baselines import Check, RegressionConfigError, compare, passes


@pytest.mark.parametrize("value,baseline,direction,tolerance,expected", [
    (0.990, 0.991, "at_least", 0.002, True),
    (0.989, 0.991, "at_least", 0.002, True),   # exactly at the edge
    (0.988, 0.991, "at_least", 0.002, False),
    (5.0, 1.0, "at_least", 0.0, True),         # better is always fine
    (1.2, 1.0, "at_most", 0.2, True),
    (1.3, 1.0, "at_most", 0.2, False),
    (-4.0, 1.0, "at_most", 0.0, True),
    (10.4, 10.0, "within", 0.5, True),
    (9.5, 10.0, "within", 0.5, True),
    (9.4, 10.0, "within", 0.5, False),
    (10.6, 10.0, "within", 0.5, False),
])
def test_each_direction(value, baseline, direction, tolerance, expected):
    assert passes(value, baseline, direction, tolerance) is expected


def test_unknown_direction():
    with pytest.raises(ValueError, match="direction"):
        passes(1.0, 1.0, "about", 0.1)


EXPECTED = {"05_cnn": {
    "cnn.test_accuracy": {"baseline": 0.991, "direction": "at_least", "tolerance": 0.002},
    "cnn.params": {"baseline": 225034, "direction": "within", "tolerance": 0},
    "cnn.macs": {"baseline": 1.0e6, "direction": "within", "tolerance": 10},
}}


def test_compare_reports_ok_regression_missing_and_unknown_metrics():
    metrics = {"05_cnn": {"cnn.test_accuracy": 0.95, "cnn.params": 225034, "cnn.new": 1.0}}
    checks = {c.metric: c for c in compare(metrics, EXPECTED)}
    assert checks["cnn.params"].status == "ok"
    assert checks["cnn.test_accuracy"].status == "REGRESSION"
    assert checks["cnn.macs"] == Check("05_cnn", "cnn.macs", 1.0e6, None, "within", 10, "MISSING")
    assert checks["cnn.new"].status == "NO BASELINE" and checks["cnn.new"].value == 1.0
    assert [c.failed for c in checks.values()].count(False) == 1


def test_notebooks_that_did_not_run_are_not_compared():
    assert compare({}, EXPECTED) == []


def test_tables():
    checks = compare({"05_cnn": {"cnn.test_accuracy": 0.99, "cnn.params": 225034,
                                 "cnn.macs": 1.0e6}}, EXPECTED)
    text = baselines.checks_table(checks).splitlines()
    assert text[0].split() == list(baselines.CHECK_HEADER)
    assert [line.split()[1] for line in text[2:]] == ["cnn.macs", "cnn.params",
                                                      "cnn.test_accuracy"]
    assert text[4].split() == ["05_cnn", "cnn.test_accuracy", "0.991", "0.99", "≥", "baseline",
                               "−", "0.002", "ok"]
    markdown = baselines.checks_table(checks, markdown=True).splitlines()
    assert markdown[0] == "| notebook | metric | baseline | value | tolerance | status |"
    assert markdown[2] == "| 05_cnn | cnn.macs | 1e+06 | 1e+06 | ± 10 | ok |"


@pytest.mark.parametrize("spec,message", [
    ({"baseline": 1, "direction": "at_least"}, "needs baseline, direction and tolerance"),
    ({"baseline": 1, "direction": "around", "tolerance": 1}, "direction must be one of"),
    ({"baseline": 1, "direction": "within", "tolerance": -1}, "tolerance must be a number >= 0"),
])
def test_malformed_baselines_are_rejected(tmp_path, spec, message):
    path = tmp_path / "baselines.yaml"
    path.write_text(yaml.safe_dump({"smoke": {"05_cnn": {"cnn.params": spec}}}))
    with pytest.raises(RegressionConfigError, match=message):
        baselines.load_baselines(path)


def test_profiles(tmp_path):
    (tmp_path / "smoke.yaml").write_text("05_cnn:\n  EPOCHS: 1\n00_welcome:\n")
    (tmp_path / "broken.yaml").write_text("- just a list\n")
    assert baselines.load_profile("smoke", tmp_path) == {"05_cnn": {"EPOCHS": 1},
                                                          "00_welcome": {}}
    with pytest.raises(RegressionConfigError, match=r"no profile 'fast'.*\['broken', 'smoke'\]"):
        baselines.load_profile("fast", tmp_path)
    with pytest.raises(RegressionConfigError, match="must map notebook names"):
        baselines.load_profile("broken", tmp_path)


def test_updated_baselines_keep_tolerances_and_drop_stale_metrics():
    current = {"smoke": EXPECTED, "default": {"05_cnn": {}}}
    new = baselines.updated_baselines(
        current, "smoke", {"05_cnn": {"cnn.test_accuracy": 0.993, "cnn.latency_ms": 40.0}})
    assert new["smoke"]["05_cnn"] == {
        "cnn.test_accuracy": {"baseline": 0.993, "direction": "at_least", "tolerance": 0.002},
        "cnn.latency_ms": {"baseline": 40.0, "direction": "within", "tolerance": 2.0}}
    assert new["default"] == {"05_cnn": {}} and current["smoke"] is EXPECTED  # not mutated


def test_unknown_parameter_fails_before_anything_runs(tmp_path, monkeypatch):
    notebook = write_notebook(tmp_path / "05_x.ipynb", "EPOCHS = 2  # passes\nSEED = 0", "1")
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "smoke.yaml").write_text("05_x:\n  EPOCH: 1\n")
    monkeypatch.setattr(baselines, "PROFILES_DIR", profiles)
    with pytest.raises(RegressionConfigError,
                       match="05_x.ipynb has no parameter EPOCH; its parameters are EPOCHS, SEED"):
        runner.run_course([notebook], tmp_path / "out", 60, profile="smoke")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.timeout(400)  # three notebook runs of up to 120 s each
def test_profile_run_compares_baselines_updates_them_and_writes_a_report(tmp_path, monkeypatch,
                                                                         capsys):
    notebook = write_notebook(tmp_path / "07_x.ipynb", "SCALE = 1",
                              "import course_lib as cl\ncl.record('x.score', 0.5 * SCALE)")
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "smoke.yaml").write_text("07_x:\n  SCALE: 2\n")
    monkeypatch.setattr(baselines, "PROFILES_DIR", profiles)
    baselines_file = tmp_path / "baselines.yaml"
    baselines_file.write_text(yaml.safe_dump({"smoke": {"07_x": {
        "x.score": {"baseline": 2.0, "direction": "at_least", "tolerance": 0.5}}}}))
    out = tmp_path / "out"

    status = runner.run_course([notebook], out, 120, profile="smoke", baselines_file=baselines_file,
                               report=True)
    assert status == 1  # 1.0 < 2.0 - 0.5
    assert json.loads((out / "metrics.json").read_text()) == {"07_x": {"x.score": 1.0}}
    assert "| 07_x | x.score | 2 | 1 | ≥ baseline − 0.5 | REGRESSION |" in (
        out / "regressions.md").read_text()
    assert "FAILED 07_x x.score: REGRESSION" in capsys.readouterr().err
    index = (out / "index.html").read_text()
    assert 'href="html/07_x.html"' in index and "REGRESSION" in index
    assert "<th>peak MB</th>" in index
    assert "recorded x.score = 1" in (out / "html" / "07_x.html").read_text()

    status = runner.run_course([notebook], out, 120, profile="smoke", baselines_file=baselines_file,
                               update_baselines=True)
    assert status == 0
    printed = capsys.readouterr().out
    assert "-      baseline: 2.0\n" in printed and "+      baseline: 1.0\n" in printed
    assert baselines.load_baselines(baselines_file)["smoke"]["07_x"]["x.score"] == {
        "baseline": 1.0, "direction": "at_least", "tolerance": 0.5}
    assert runner.run_course([notebook], out, 120, profile="smoke",
                             baselines_file=baselines_file) == 0


def test_baselines_command_reads_already_executed_notebooks(tmp_path, capsys):
    from course_lib.results import MIME_TYPE
    from course_tools.__main__ import main

    executed = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("record(...)")])
    executed.cells[0].outputs = [nbformat.v4.new_output(
        "display_data", data={MIME_TYPE: {"name": "x.score", "value": 0.75},
                              "text/plain": "recorded x.score = 0.75"})]
    nbformat.write(executed, tmp_path / "07_x.ipynb")
    baselines_file = tmp_path / "baselines.yaml"
    assert main(["baselines", "--from", str(tmp_path), "--baselines", str(baselines_file)]) == 0
    assert "+      baseline: 0.75" in capsys.readouterr().out
    assert baselines.load_baselines(baselines_file) == {"default": {"07_x": {"x.score": {
        "baseline": 0.75, "direction": "within", "tolerance": 0.0375}}}}


def test_a_metric_recorded_only_on_some_hardware_may_be_missing(tmp_path):
    path = tmp_path / "baselines.yaml"
    path.write_text(yaml.safe_dump({"default": {"11_x": {"x.bf16_speedup": {
        "baseline": 1.6, "direction": "at_least", "tolerance": 0.3,
        "recorded_only_where": "AVX512_BF16 is in effect"}}}}))
    expected = baselines.load_baselines(path)["default"]
    (absent,) = compare({"11_x": {}}, expected)
    assert absent.status == "not recorded here (only where AVX512_BF16 is in effect)"
    assert not absent.failed
    (slow,) = compare({"11_x": {"x.bf16_speedup": 1.0}}, expected)
    assert slow.status == "REGRESSION" and slow.failed
    kept = baselines.updated_baselines({"default": expected}, "default", {"11_x": {}})
    assert kept["default"]["11_x"] == expected["11_x"]  # not dropped where it cannot be measured
    path.write_text(yaml.safe_dump({"default": {"11_x": {"x.a": {
        "baseline": 1.0, "direction": "at_least", "tolerance": 0.1,
        "recorded_only_where": ""}}}}))
    with pytest.raises(RegressionConfigError, match="recorded_only_where must say where"):
        baselines.load_baselines(path)
