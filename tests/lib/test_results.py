"""course_lib.record: numbers only, one clear error otherwise; the runner can read them back."""

import math

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from course_lib.results import MIME_TYPE, metrics_in, record


def test_record_outside_ipython_prints_a_line(capsys):
    record("topic.value", np.float32(0.25))
    assert capsys.readouterr().out == "recorded topic.value = 0.25\n"


@pytest.mark.parametrize("value", ["0.9", None, [1.0], True, np.bool_(True)])
def test_non_numbers_are_refused(value):
    with pytest.raises(TypeError, match="must be a number"):
        record("topic.value", value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -np.inf])
def test_non_finite_numbers_are_refused(value):
    with pytest.raises(ValueError, match="finite"):
        record("topic.value", value)


@pytest.mark.parametrize("name", ["", "Topic.Value", "topic..value", "topic value", 3])
def test_malformed_names_are_refused(name):
    with pytest.raises(ValueError, match="metric name"):
        record(name, 1.0)


@pytest.mark.slow
def test_metrics_round_trip_through_an_executed_notebook():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from course_lib import record\nrecord('a.accuracy', 0.5)"),
        nbformat.v4.new_code_cell("record('a.params', 1234)\nrecord('a.accuracy', 0.75)"),
    ])
    NotebookClient(notebook, kernel_name="python3", timeout=60).execute()
    assert metrics_in(notebook) == {"a.accuracy": 0.75, "a.params": 1234.0}
    output = notebook.cells[0].outputs[0]
    assert output.data[MIME_TYPE] == {"name": "a.accuracy", "value": 0.5}
    assert output.data["text/plain"] == "recorded a.accuracy = 0.5"
