"""Every course notebook follows the mechanical conventions of CONTRIBUTING.md."""

import ast
import json

import nbformat
import papermill
import pytest

from course_lib.paths import PROJECT_ROOT
from course_tools import conventions, runner

NOTEBOOKS = runner.discover()


def test_the_course_has_notebooks():
    assert [p.stem for p in NOTEBOOKS][:2] == ["00_welcome", "01_gradient_descent"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_follows_the_conventions(path):
    assert conventions.problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_in_the_readme_map(path):
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert f"notebooks/{path.name}" in readme, f"add {path.name} to the README's course map"


def _graded(cell, **meta):
    cell.metadata["nbgrader"] = {"schema_version": 3, "task": False, "locked": False, **meta}
    return cell


def good_notebook() -> nbformat.NotebookNode:
    code, markdown = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    cells = [
        markdown("# 07 · Title\n\nRun time: about 1 s."),
        code("SEED = 0", execution_count=1),
        code("import course_lib as cl\ncl.check_param('SEED', SEED, int)", execution_count=2),
        markdown("## Exercises\n\n1. Put 1 in `a`. 2. Put 2 in `b`. 3. Why?"),
        _graded(code("### BEGIN SOLUTION\na = 1\n### END SOLUTION", execution_count=3),
                solution=True, grade=False, grade_id="ex1_answer"),
        _graded(code("assert a > 0\n### BEGIN HIDDEN TESTS\nassert a == 1\n"
                     "### END HIDDEN TESTS", execution_count=4),
                solution=False, grade=True, locked=True, points=1, grade_id="ex1_tests"),
        _graded(code("### BEGIN SOLUTION\nb = 2\n### END SOLUTION", execution_count=5),
                solution=True, grade=False, grade_id="ex2_answer"),
        _graded(code("assert b > 0\n### BEGIN HIDDEN TESTS\nassert b == 2\n"
                     "### END HIDDEN TESTS", execution_count=6),
                solution=False, grade=True, locked=True, points=1, grade_id="ex2_tests"),
        _graded(markdown("### BEGIN SOLUTION\nBecause. **Rubric:** 1 point.\n### END SOLUTION"),
                solution=True, grade=True, points=1, grade_id="ex3_written"),
    ]
    cells[1].metadata["tags"] = ["parameters"]
    return nbformat.v4.new_notebook(cells=cells)


def problems_of(tmp_path, notebook, name="07_title.ipynb"):
    path = tmp_path / name
    nbformat.write(notebook, path)
    return conventions.problems(path)


def test_a_conforming_notebook_has_no_problems(tmp_path):
    assert problems_of(tmp_path, good_notebook()) == []


@pytest.mark.parametrize("name", ["7_title.ipynb", "07-title.ipynb", "07_Title.ipynb"])
def test_bad_file_names(tmp_path, name):
    assert any("NN_slug" in p for p in problems_of(tmp_path, good_notebook(), name))


def test_title_number_must_match_the_file(tmp_path):
    assert any("'# 08 · '" in p for p in problems_of(tmp_path, good_notebook(), "08_title.ipynb"))


def test_missing_parameters_tag_and_validation(tmp_path):
    notebook = good_notebook()
    notebook.cells[1].metadata["tags"] = []
    assert any("tagged 'parameters'" in p for p in problems_of(tmp_path, notebook))
    notebook = good_notebook()
    notebook.cells[2].source = "import course_lib as cl"
    assert any("check_param" in p for p in problems_of(tmp_path, notebook))


def test_execution_order_errors_and_volatile_outputs(tmp_path):
    notebook = good_notebook()
    notebook.cells[2].execution_count = 5
    notebook.cells[4].outputs = [
        nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="", traceback=[]),
        nbformat.v4.new_output("stream", name="stdout", text="saved to /tmp/abc/model.keras\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "<Model at 0x7f3a2b1c>"},
                               execution_count=3),
    ]
    found = " | ".join(problems_of(tmp_path, notebook))
    assert "executed in order" in found and "ZeroDivisionError" in found
    assert "'/tmp/'" in found and "' at 0x7f3a2b1c'" in found


def test_the_checkout_path_in_an_output_is_a_problem(tmp_path):
    notebook = good_notebook()
    notebook.cells[4].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"{PROJECT_ROOT}/build\n")]
    assert any("temp path, home path or memory address" in p
               for p in problems_of(tmp_path, notebook))


def test_ignored_cells_must_say_why(tmp_path):
    notebook = good_notebook()
    notebook.cells[2].metadata["tags"] = [conventions.IGNORE_TAG]
    assert any("start with a comment" in p for p in problems_of(tmp_path, notebook))


def test_exercises_must_be_graded_tasks(tmp_path):
    notebook = good_notebook()
    del notebook.cells[-1]
    assert "exercises: the graded tasks must mix autograded code answers and written answers" \
        in problems_of(tmp_path, notebook)
    notebook.cells[4].metadata["tags"] = ["solution"]
    assert any("old 'solution' tag" in p for p in problems_of(tmp_path, notebook))


def test_a_written_answer_stated_in_a_handed_out_cell_is_a_leak(tmp_path):
    answer = "The loss diverges because the step exceeds two over the largest curvature."
    notebook = good_notebook()
    notebook.cells[-1].source = f"### BEGIN SOLUTION\n{answer} **Rubric:** 1.\n### END SOLUTION"
    assert problems_of(tmp_path, notebook) == []
    notebook.cells[3].source = f"## Exercises\n\n1. Why? Hint: {answer.upper()}"
    assert any("handed out to students also states" in p for p in problems_of(tmp_path, notebook))


def test_an_ignore_comment_without_the_tag_is_a_problem(tmp_path):
    notebook = good_notebook()
    notebook.cells[4].source = "# nbval-ignore-output: timings\n" + notebook.cells[4].source
    assert any("must carry that tag" in p for p in problems_of(tmp_path, notebook))


def test_size_limit(tmp_path):
    notebook = good_notebook()
    notebook.cells[4].outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                        text="x" * conventions.MAX_BYTES)]
    assert any("MB limit" in p for p in problems_of(tmp_path, notebook))


def test_unexecuted_notebook_is_reported(tmp_path):
    notebook = json.loads(nbformat.writes(good_notebook()))
    notebook["cells"][4]["execution_count"] = None
    path = tmp_path / "07_title.ipynb"
    path.write_text(json.dumps(notebook))
    assert any("executed in order" in p for p in conventions.problems(path))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_papermill_sees_every_parameter(path):
    """Papermill silently skips a parameter line it cannot parse (e.g. an '=' in the comment)."""
    cells = json.loads(path.read_text())["cells"]
    source = "".join(next(c for c in cells if "parameters" in c["metadata"].get("tags", []))
                     ["source"])
    assigned = [target.id for node in ast.parse(source).body if isinstance(node, ast.Assign)
                for target in node.targets]
    assert list(papermill.inspect_notebook(str(path))) == assigned
