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


def good_notebook() -> nbformat.NotebookNode:
    cells = [
        nbformat.v4.new_markdown_cell("# 07 · Title\n\nRun time: about 1 s."),
        nbformat.v4.new_code_cell("SEED = 0", execution_count=1),
        nbformat.v4.new_code_cell("import course_lib as cl\ncl.check_param('SEED', SEED, int)",
                                  execution_count=2),
        nbformat.v4.new_markdown_cell("## Exercises\n\n1. Do it."),
        nbformat.v4.new_code_cell("print(1)", execution_count=3),
    ]
    cells[1].metadata["tags"] = ["parameters"]
    cells[4].metadata["tags"] = ["solution"]
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


def test_ignored_cells_must_say_why_and_exercises_need_solutions(tmp_path):
    notebook = good_notebook()
    notebook.cells[4].metadata["tags"] = [conventions.IGNORE_TAG]
    found = " | ".join(problems_of(tmp_path, notebook))
    assert "start with a comment" in found and "tagged 'solution'" in found


def test_markdown_after_a_solution_is_an_answer_handed_out(tmp_path):
    notebook = good_notebook()
    notebook.cells.append(nbformat.v4.new_markdown_cell("So the answer is 42."))
    assert any("comes after the first solution but is not tagged 'solution'" in p
               for p in problems_of(tmp_path, notebook))
    notebook.cells[-1].metadata["tags"] = ["solution"]
    assert problems_of(tmp_path, notebook) == []


def test_a_solution_sentence_stated_in_an_untagged_cell_is_a_leak(tmp_path):
    answer = "The loss diverges because the step exceeds two over the largest curvature."
    notebook = good_notebook()
    notebook.cells[4].source = f"# {answer}\nprint(1)"
    assert problems_of(tmp_path, notebook) == []
    notebook.cells[3].source = f"## Exercises\n\n1. Why? Hint: {answer.upper()}"
    assert any("which an untagged cell also states" in p for p in problems_of(tmp_path, notebook))


def test_a_solution_may_reuse_the_lessons_code(tmp_path):
    notebook = good_notebook()
    notebook.cells.insert(3, nbformat.v4.new_code_cell("total = sum(range(10_000_000_000_000))",
                                                       execution_count=3))
    notebook.cells[5].source = "total = sum(range(10_000_000_000_000))"
    notebook.cells[5].execution_count = 4
    assert problems_of(tmp_path, notebook) == []


def test_an_ignore_comment_without_the_tag_is_a_problem(tmp_path):
    notebook = good_notebook()
    notebook.cells[4].source = "# nbval-ignore-output: timings\nprint(1)"
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
