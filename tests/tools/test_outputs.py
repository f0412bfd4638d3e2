"""Output comparison: what is compared, what is not, and how a difference is reported."""

import re

import nbformat
import pytest

from course_lib.results import MIME_TYPE
from course_tools import outputs

SANITIZERS = [(re.compile(r"0x[0-9a-f]+"), "0xADDRESS")]


def stream(text, name="stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def result(data):
    return nbformat.v4.new_output("execute_result", data=data, execution_count=1)


def notebook(*cells):
    """A notebook of code cells given as (source, outputs) or (source, outputs, tags)."""
    made = []
    for number, (source, outs, *tags) in enumerate(cells, 1):
        cell = nbformat.v4.new_code_cell(source, outputs=outs, execution_count=number)
        cell.metadata["tags"] = tags[0] if tags else []
        made.append(cell)
    return nbformat.v4.new_notebook(cells=made)


def test_streams_are_joined_and_sanitized():
    assert outputs.comparable([stream("a\n"), stream("b at 0x7f3a\n"), stream("w\n", "stderr")],
                              SANITIZERS) == ["[stream stdout]", "a", "b at 0xADDRESS",
                                              "[stream stderr]", "w"]


def test_images_and_metric_payloads_are_not_compared_but_the_metric_line_is():
    shown = result({"image/png": "iVBOR...", MIME_TYPE: {"name": "x.a", "value": 0.5},
                    "text/plain": "recorded x.a = 0.5"})
    assert outputs.comparable([shown], []) == ["[text/plain]", "recorded x.a = 0.5"]


def test_errors_compare_by_name_and_message():
    error = nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=["..."])
    assert outputs.comparable([error], []) == ["[error]", "ValueError: bad"]


def test_equal_outputs_and_ignored_cells_pass():
    committed = notebook(("print(1)", [stream("1\n")]),
                         ("print(t)  # timing", [stream("0.31 s\n")], [outputs.IGNORE_TAG]))
    executed = notebook(("print(1)", [stream("1\n")]),
                        ("print(t)  # timing", [stream("0.29 s\n")], [outputs.IGNORE_TAG]))
    assert outputs.mismatches(committed, executed, SANITIZERS) == []


def test_a_difference_names_the_cell_and_shows_a_diff():
    committed = notebook(("x = 1", []), ("print(shape)", [stream("(28, 28)\n")]))
    executed = notebook(("x = 1", []), ("print(shape)", [stream("(28, 27)\n")]))
    (mismatch,) = outputs.mismatches(committed, executed, SANITIZERS)
    assert mismatch.cell == 2 and mismatch.first_line == "print(shape)"
    assert "-(28, 28)" in mismatch.diff and "+(28, 27)" in mismatch.diff
    assert str(mismatch).startswith("cell In [2] ('print(shape)'): output differs")


def test_a_missing_output_is_a_difference():
    committed = notebook(("f()", [result({"text/plain": "42"})]))
    assert outputs.mismatches(committed, notebook(("f()", [])), SANITIZERS)


def test_papermills_injected_cell_is_skipped():
    committed = notebook(("SEED = 0", [], ["parameters"]), ("print(1)", [stream("1\n")]))
    executed = notebook(("SEED = 0", [], ["parameters"]),
                        ("SEED = 0", [], [outputs.PAPERMILL_TAG]), ("print(1)", [stream("1\n")]))
    assert outputs.mismatches(committed, executed, SANITIZERS) == []


def test_different_code_is_refused():
    with pytest.raises(ValueError, match="does not have the committed notebook's code cells"):
        outputs.mismatches(notebook(("a", [])), notebook(("b", [])), SANITIZERS)


def test_the_course_sanitize_file_loads():
    patterns = dict((p.pattern, r) for p, r in outputs.load_sanitizers())
    assert "0xADDRESS" in patterns.values() and "<TMP PATH>" in patterns.values()
