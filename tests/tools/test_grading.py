"""The classroom format: tasks, the rules, the probe that make test runs, and nbgrader itself."""

import contextlib
import csv
import io
import json
import re

import nbformat
import pytest

from conftest import REAL_CACHE_DIR, REAL_DATA_DIR
from course_lib import data
from course_tools import grading

GUARD = grading.PROJECT_ROOT / "tests" / "notebooks" / "offline_guard"


def _cell(kind, source, **meta):
    cell = (nbformat.v4.new_code_cell(source) if kind == "code"
            else nbformat.v4.new_markdown_cell(source))
    if meta:
        cell.metadata["nbgrader"] = {"schema_version": 3, "task": False, **meta}
    return cell


def _answer(grade_id, body, prefix=""):
    return _cell("code", f"{prefix}### BEGIN SOLUTION\n{body}\n### END SOLUTION",
                 grade=False, solution=True, locked=False, grade_id=grade_id)


def _tests(grade_id, visible, hidden, points=1):
    return _cell("code", f"{visible}\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS",
                 grade=True, solution=False, locked=True, points=points, grade_id=grade_id)


def _written(grade_id, body, points=1):
    return _cell("markdown", f"### BEGIN SOLUTION\n{body}\n### END SOLUTION", grade=True,
                 solution=True, locked=False, points=points, grade_id=grade_id)


def toy_notebook():
    cells = [_cell("markdown", "# 99 · Toy"), _cell("code", "x = 2"),
             _cell("markdown", "## Exercises\n\n1. Square `x` into `y`. 2. Cube it into `z`."),
             _answer("ex1_answer", "y = x ** 2"),
             _tests("ex1_tests", "assert isinstance(y, int)", "assert y == 4", points=2),
             _answer("ex2_answer", "z = x ** 3"),
             _tests("ex2_tests", "assert z > 0", "assert z == 8"),
             _cell("markdown", "3. Why is a cube larger?"),
             _written("ex3_written", "Because x is larger than one, each extra factor of x makes "
                                           "the number grow. **Rubric:** 1 point for x > 1.")]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook


def test_tasks_pair_answers_with_their_tests():
    found = grading.tasks(toy_notebook())
    assert [(t.grade_id, t.kind, t.points, t.answer, t.tests) for t in found] == [
        ("ex1_tests", "code", 2.0, 3, (4,)), ("ex2_tests", "code", 1.0, 5, (6,)),
        ("ex3_written", "written", 1.0, 8, ())]


def test_a_good_notebook_breaks_no_rule():
    assert grading.problems(toy_notebook()) == []


@pytest.mark.parametrize("break_it, message", [
    (lambda nb: nb.cells.pop(), "at least 3"),
    (lambda nb: nb.cells[6].update(source="assert z == 8"), "no hidden tests"),
    (lambda nb: nb.cells[6].metadata.nbgrader.update(locked=False), "locked"),
    (lambda nb: nb.cells[8].update(source="### BEGIN SOLUTION\nBecause.\n### END SOLUTION"),
     "rubric"),
    (lambda nb: nb.cells[3].update(source="y = x ** 2"), "no non-empty"),
    (lambda nb: nb.cells[5].metadata.nbgrader.update(grade_id="ex1_answer"), "used twice"),
    (lambda nb: nb.cells.insert(2, _cell("markdown", "Hint: because x is larger than one, each "
                                                    "extra factor of x makes the number grow.")),
     "also states"),
])
def test_each_rule_is_enforced(break_it, message):
    notebook = toy_notebook()
    break_it(notebook)
    assert any(message in p for p in grading.problems(notebook)), grading.problems(notebook)


def test_defined_names_are_the_module_level_bindings():
    source = ("import numpy as np\nfrom math import pi\na, (b, c) = 1, (2, 3)\nfor i in []: pass\n"
              "def f(q):\n    inner = 1\nclass K: pass\nwith open('x') as fh: pass\n"
              "squares = [j * j for j in range(3)]\nd += 1\n")
    assert grading.defined_names(source) == {"np", "pi", "a", "b", "c", "i", "f", "K", "fh",
                                             "squares", "d"}


def test_blank_answers_are_what_nbgrader_releases():
    blanks = grading.blank_answers(toy_notebook())
    assert set(blanks) == {3, 5}
    assert "raise NotImplementedError()" in blanks[3] and "x ** 2" not in blanks[3]


def _run_probe(notebook, wrong):
    """Run the notebook's code cells and then the probe in one namespace, as a kernel would."""
    namespace = {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            exec(cell.source, namespace)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(grading.probe_source(notebook, wrong), namespace)
    return printed.getvalue()


def test_probe_passes_a_notebook_whose_tests_catch_blank_and_wrong_answers():
    notebook, wrong = toy_notebook(), {"task": "ex2_tests", "answer": "z = x ** 2"}
    output = _run_probe(notebook, wrong)
    report = json.loads(output.split(grading.PROBE_MARKER, 1)[1])
    assert report == {"wrong_answer_ran": True, "wrong": ["ex2_tests"],
                      "blank": ["ex1_tests", "ex2_tests"]}
    assert grading.probe_problems(notebook, output, wrong) == []


def test_probe_catches_tests_that_pass_without_an_answer():
    notebook = toy_notebook()
    notebook.cells[6].source = "assert x == 2\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS"
    wrong = {"task": "ex1_tests", "answer": "y = 5"}
    problems = grading.probe_problems(notebook, _run_probe(notebook, wrong), wrong)
    assert problems == ["task 'ex2_tests': its tests pass on the blank answers (a blank release "
                        "would score)"]


def test_probe_catches_a_wrong_answer_that_costs_the_wrong_tasks():
    notebook = toy_notebook()
    notebook.cells[6].source = ("assert z > 0\n### BEGIN HIDDEN TESTS\nassert y == 4 and z == 8"
                                "\n### END HIDDEN TESTS")  # task 2 depends on task 1's answer
    wrong = {"task": "ex1_tests", "answer": "y = 5"}
    problems = grading.probe_problems(notebook, _run_probe(notebook, wrong), wrong)
    assert any("exactly ['ex1_tests'] must fail" in p for p in problems)
    crashing = {"task": "ex1_tests", "answer": "y = 1 / 0"}
    problems = grading.probe_problems(notebook, _run_probe(notebook, crashing), crashing)
    assert any("raised an error" in p for p in problems)


def test_header_counts_tasks_and_points():
    text = grading.header(toy_notebook())
    assert "3 tasks, 4 points: 2 code answers (3 points)" in text
    assert "1 written answers (1 points)" in text


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_nbgrader_releases_and_grades_the_toy_course(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nbformat.write(toy_notebook(), notebooks / "99_toy.ipynb")
    monkeypatch.setattr(grading, "NOTEBOOKS_DIR", notebooks)
    monkeypatch.chdir(tmp_path)  # relative folders, as the Makefile passes them
    release = grading.release_all([notebooks / "99_toy.ipynb"], grading.Path("course"))
    handed_out = nbformat.read(release / "99_toy" / "99_toy.ipynb", as_version=4)
    text = json.dumps(handed_out)
    assert "x ** 2" not in text and "y == 4" not in text and "Rubric" not in text
    assert "Graded assignment" in handed_out.cells[0].source

    submissions = tmp_path / "submissions"
    for student, notebook in {"ada": toy_notebook(), "bob": handed_out}.items():
        (submissions / student).mkdir(parents=True)
        nbformat.write(notebook, submissions / student / "99_toy.ipynb")
    wrong = toy_notebook()
    wrong.cells[5].source = wrong.cells[5].source.replace("x ** 3", "x ** 2")
    (submissions / "cy").mkdir()
    nbformat.write(wrong, submissions / "cy" / "99_toy.ipynb")
    out = grading.grade(grading.Path("submissions"), grading.Path("grades"), jobs=2)
    with open(out / "grades.csv") as f:
        rows = {(r["student"], r["task"]): r for r in csv.DictReader(f)}
    score = {k: (r["points"], r["max_points"], r["needs_manual_grade"]) for k, r in rows.items()}
    assert score[("ada", "ex1_tests")] == ("2.0", "2.0", "False")
    assert score[("ada", "ex2_tests")] == ("1.0", "1.0", "False")
    assert score[("ada", "ex3_written")] == ("", "1.0", "True")
    assert [score[("bob", t)][0] for t in ("ex1_tests", "ex2_tests", "ex3_written")] == [
        "0.0", "0.0", "0.0"]
    assert (score[("cy", "ex1_tests")][0], score[("cy", "ex2_tests")][0]) == ("2.0", "0.0")
    assert (out / "feedback" / "cy" / "99_toy.html").is_file()


# ------------------------------------------------------------------ the course's own notebooks
COURSE = sorted(grading.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def _handed_out_lines(notebook):
    """Lines of the cells students receive anyway (the lesson, the questions, visible tests)."""
    lines = set()
    for cell in notebook.cells:
        source = cell.source
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            source = source.split(grading.BEGIN_SOLUTION)[0]
        lines.update(ln.strip() for ln in source.split(grading.BEGIN_HIDDEN)[0].splitlines())
    return lines


def _secret_lines(notebook):
    """Lines that only the instructor may see: solution regions and hidden tests."""
    secret = set()
    for cell in notebook.cells:
        for part in re.findall(rf"{grading.BEGIN_SOLUTION}\n(.*?){grading.END_SOLUTION}|"
                               rf"{grading.BEGIN_HIDDEN}\n(.*?){grading.END_HIDDEN}",
                               cell.source, flags=re.S):
            secret.update(ln.strip() for ln in "".join(part).splitlines() if ln.strip())
    return secret - _handed_out_lines(notebook)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_no_solution_or_hidden_test_survives_into_any_release(tmp_path):
    release = grading.release_all(COURSE, tmp_path / "course")
    for path in COURSE:
        source = nbformat.read(path, as_version=4)
        handed_out = nbformat.read(release / path.stem / path.name, as_version=4)
        text = "\n".join(c.source for c in handed_out.cells)
        released = {ln.strip() for ln in text.splitlines()}
        leaked = [ln for ln in _secret_lines(source) if ln in released]
        assert leaked == [], f"{path.name}: {leaked[:3]}"
        for marker in (grading.BEGIN_SOLUTION, grading.BEGIN_HIDDEN, "Rubric"):
            assert marker not in text, f"{path.name}: {marker}"
        assert all(not c.get("outputs") for c in handed_out.cells if c.cell_type == "code")
        assert handed_out.cells[0].source.startswith("> **Graded assignment.**")


@pytest.fixture
def real_data_offline(monkeypatch):
    """The real dataset locations, and every non-loopback connection refused in the processes
    that nbgrader starts (tests/notebooks/offline_guard)."""
    for name, value in ((data.DATA_DIR_ENV, REAL_DATA_DIR), (data.CACHE_DIR_ENV, REAL_CACHE_DIR)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("PYTHONPATH", str(GUARD))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_notebook_00_end_to_end_through_nbgrader(tmp_path, real_data_offline):
    """The instructor version scores full marks, the blank release zero, and the wrong answer
    of tests/notebooks/wrong_answers.yaml loses exactly its task's points, in real nbgrader,
    offline."""
    path = grading.NOTEBOOKS_DIR / "00_welcome.ipynb"
    release = grading.release_all([path], tmp_path / "course")
    instructor = nbformat.read(path, as_version=4)
    wrong_answer = grading.load_wrong_answers()["00_welcome"]
    wrong = nbformat.read(path, as_version=4)
    task = next(t for t in grading.tasks(instructor) if t.grade_id == wrong_answer["task"])
    wrong.cells[task.answer].source = wrong_answer["answer"]
    submissions = tmp_path / "submissions"
    blank = nbformat.read(release / "00_welcome" / path.name, as_version=4)
    for student, notebook in {"instructor": instructor, "wrong": wrong, "blank": blank}.items():
        (submissions / student).mkdir(parents=True)
        nbformat.write(notebook, submissions / student / path.name)
    out = grading.grade(submissions, tmp_path / "grades", jobs=3)
    with open(out / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    points = {(r["student"], r["task"]): r["points"] for r in rows}
    tasks = grading.tasks(instructor)
    for t in tasks:
        if t.kind == "code":
            assert float(points["instructor", t.grade_id]) == t.points
            assert float(points["blank", t.grade_id]) == 0
            expected = 0 if t.grade_id == wrong_answer["task"] else t.points
            assert float(points["wrong", t.grade_id]) == expected
        else:
            assert points["instructor", t.grade_id] == ""  # waits for the grader
            assert float(points["blank", t.grade_id]) == 0  # left as handed out
    assert {r["max_points"] for r in rows if r["task"] == task.grade_id} == {f"{task.points}"}
    for student in ("instructor", "wrong", "blank"):
        assert (out / "feedback" / student / "00_welcome.html").is_file()


def test_grade_names_a_submission_that_is_no_course_notebook(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no student folders"):
        grading.grade(tmp_path / "empty", tmp_path / "out")
    (tmp_path / "subs" / "ada").mkdir(parents=True)
    nbformat.write(toy_notebook(), tmp_path / "subs" / "ada" / "99_homework.ipynb")
    with pytest.raises(ValueError, match="no course notebook is called 99_homework.ipynb"):
        grading.grade(tmp_path / "subs", tmp_path / "out")


@pytest.mark.slow
def test_the_runner_probes_grading_in_the_notebooks_kernel(tmp_path, monkeypatch):
    from course_tools import runner

    path = tmp_path / "99_toy.ipynb"
    nbformat.write(toy_notebook(), path)
    runner.run_notebook(path, tmp_path / "first", 120)  # executed, as committed
    path.write_text((tmp_path / "first" / "99_toy.ipynb").read_text())
    monkeypatch.setattr(grading, "load_wrong_answers",
                        lambda: {"99_toy": {"task": "ex2_tests", "answer": "z = x * 3"}})
    result = runner.run_notebook(path, tmp_path / "check", 120, compare_outputs=True)
    assert (result.status, result.mismatches, result.grading) == ("ok", [], [])
    executed = nbformat.read(tmp_path / "check" / "99_toy.ipynb", as_version=4)
    assert len(executed.cells) == len(toy_notebook().cells)  # the probe cell is not kept
    monkeypatch.setattr(grading, "load_wrong_answers",
                        lambda: {"99_toy": {"task": "ex2_tests", "answer": "z = x ** 3"}})
    result = runner.run_notebook(path, tmp_path / "check", 120, compare_outputs=True)
    assert result.grading == ["with the wrong answer for 'ex2_tests', the failing tests are [];"
                              " exactly ['ex2_tests'] must fail"]
