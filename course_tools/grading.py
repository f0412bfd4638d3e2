"""The classroom: every exercise an nbgrader task, hand-outs and auto-grading in two commands.

The committed notebooks are nbgrader's *source* (instructor) versions. An exercise is

- an **autograded answer**: a code cell with nbgrader metadata ``solution: true`` whose answer
  stands between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, followed by one or more locked
  **test cells** (``grade: true``, with points) whose visible checks a student can run and whose
  ``### BEGIN HIDDEN TESTS`` part is added back only when grading; or
- a **written answer**: a markdown cell with ``solution: true, grade: true`` and points, holding
  the model answer and a rubric for the grader inside the solution region; graded by hand.

``make assignments`` (:func:`release_all`) runs ``nbgrader generate_assignment`` on every
notebook; ``make grade`` (:func:`grade`) runs ``nbgrader autograde`` and ``generate_feedback``
on a folder of submissions and writes ``grades.csv``. In ``make test`` the one execution of
each notebook ends with :func:`probe_source`, run in the same kernel: the notebook's blank
answers and one deliberately wrong answer (:data:`WRONG_ANSWERS`) are executed and every test
cell is run again, so that CI proves the tests give zero to a blank notebook and take exactly
one task's points for a wrong answer, without executing any notebook more than once.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from course_lib.paths import NOTEBOOKS_DIR, PROJECT_ROOT

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
WRONG_ANSWERS = PROJECT_ROOT / "tests" / "notebooks" / "wrong_answers.yaml"
PROBE_MARKER = "GRADING-PROBE "
CELL_TIMEOUT = 1200  # seconds one cell may run under nbgrader (the slowest trains for minutes)
MIN_TASKS = 3


@dataclass(frozen=True)
class Task:
    """A graded exercise: its id (the grade cell's ``grade_id``), ``"code"`` or ``"written"``,
    points, the answer cell's index and the indices of its test cells (code tasks)."""

    grade_id: str
    kind: str
    points: float
    answer: int
    tests: tuple[int, ...] = ()


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def tasks(notebook) -> list[Task]:
    """The graded tasks of a notebook, in order. A code answer owns the test cells that follow
    it; a written answer is its own grade cell."""
    found, answer = [], None
    for i, cell in enumerate(notebook["cells"]):
        meta = _meta(cell)
        if cell["cell_type"] == "code" and meta.get("solution") and not meta.get("grade"):
            answer = i
        elif cell["cell_type"] == "code" and meta.get("grade"):
            if answer is None:
                raise ValueError(f"test cell {meta.get('grade_id')!r} (cell {i}) has no answer "
                                 f"cell before it")
            found.append(Task(meta["grade_id"], "code", float(meta.get("points", 0)), answer,
                              (i,)))
        elif cell["cell_type"] == "markdown" and meta.get("solution") and meta.get("grade"):
            found.append(Task(meta["grade_id"], "written", float(meta.get("points", 0)), i))
    return found


def solution_region(source: str) -> str:
    """The text between the solution markers (all regions of the cell, joined)."""
    return "\n".join(re.findall(rf"{re.escape(BEGIN_SOLUTION)}\n(.*?){re.escape(END_SOLUTION)}",
                                source, flags=re.S))


def problems(notebook) -> list[str]:
    """Every rule of the classroom format that ``notebook`` (a dict) breaks."""
    cells = notebook["cells"]
    try:
        found = tasks(notebook)
    except ValueError as error:
        return [str(error)]
    issues = []
    if len(found) < MIN_TASKS:
        issues.append(f"the notebook has {len(found)} graded tasks; it needs at least "
                      f"{MIN_TASKS}")
    if not {t.kind for t in found} >= {"code", "written"}:
        issues.append("the graded tasks must mix autograded code answers and written answers")
    ids = [_meta(c)["grade_id"] for c in cells if _meta(c)]
    issues += [f"grade_id {g!r} is used twice" for g in sorted({g for g in ids
                                                               if ids.count(g) > 1})]
    for i, cell in enumerate(cells):
        meta, source = _meta(cell), _source(cell)
        if "solution" in cell.get("metadata", {}).get("tags", []):
            issues.append(f"cell {i} still carries the old 'solution' tag")
        if meta.get("solution") and not solution_region(source).strip():
            issues.append(f"answer cell {meta.get('grade_id')!r} has no non-empty "
                          f"{BEGIN_SOLUTION} ... {END_SOLUTION} region")
        if meta.get("grade") and cell["cell_type"] == "code":
            if not meta.get("locked") or not meta.get("points"):
                issues.append(f"test cell {meta['grade_id']!r} must be locked and carry points")
            if BEGIN_HIDDEN not in source:
                issues.append(f"test cell {meta['grade_id']!r} has no hidden tests")
        if cell["cell_type"] == "markdown" and meta.get("solution"):
            if "rubric" not in solution_region(source).lower():
                issues.append(f"written answer {meta.get('grade_id')!r} needs a rubric in its "
                              f"solution region")
            if not meta.get("grade") or not meta.get("points"):
                issues.append(f"written answer {meta.get('grade_id')!r} must be graded, with "
                              f"points")
    return issues + _leaks(cells)


def _sentences(text: str) -> list[str]:
    words = " ".join(text.replace("#", " ").split()).lower()
    return [s.strip() for s in re.split(r"(?<=[.!?;:])\s", words) if len(s.strip()) >= 40]


def _leaks(cells) -> list[str]:
    """A sentence of a solution region found in a cell that students receive is an answer
    handed out with the questions."""
    handed_out = " ".join(" ".join(_source(c).split()).lower() for c in cells
                          if not _meta(c).get("solution"))
    handed_out = handed_out.replace("#", " ")
    handed_out = " ".join(handed_out.split())
    return [f"answer {_meta(c)['grade_id']!r} states {s[:60]!r}, which a cell handed out to "
            f"students also states" for c in cells if _meta(c).get("solution")
            for s in _sentences(solution_region(_source(c))) if s in handed_out]


# --------------------------------------------------------------------- the probe in make test
def defined_names(source: str) -> set[str]:
    """Names a cell binds at module level: assignment and loop targets, ``with ... as``,
    imports, functions and classes (not names local to functions or comprehensions)."""
    names: set[str] = set()

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            return
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                             ast.GeneratorExp)):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return names


def blank_answers(notebook) -> dict[int, str]:
    """The answer cells as nbgrader releases them (``ClearSolutions``), by cell index."""
    from nbgrader.preprocessors import ClearSolutions

    released = nbformat.reads(json.dumps(notebook), as_version=4)  # sources as strings
    ClearSolutions().preprocess(released, {})
    return {i: _source(released.cells[i]) for i in {t.answer for t in tasks(notebook)
                                                   if t.kind == "code"}}


def load_wrong_answers(path: Path = WRONG_ANSWERS) -> dict[str, dict]:
    """``{notebook stem: {"task": grade_id of a test cell, "answer": code}}``."""
    return yaml.safe_load(path.read_text()) if path.is_file() else {}


def probe_source(notebook, wrong: dict | None) -> str:
    """The code of a cell to run after the notebook, in its kernel. It prints one line,
    :data:`PROBE_MARKER` + JSON, with which test cells fail

    - ``"wrong"``: after ``wrong["answer"]`` replaces the answer of task ``wrong["task"]``;
    - ``"blank"``: after every answer is replaced by its released (blank) version.

    Before an answer is replaced, the names the instructor's answer defines are deleted, so a
    test cannot pass on what the solution left behind.
    """
    code_tasks = [t for t in tasks(notebook) if t.kind == "code"]
    cells = notebook["cells"]
    answers = sorted({t.answer for t in code_tasks})
    plan = {
        "tests": {t.grade_id: [_source(cells[i]) for i in t.tests] for t in code_tasks},
        "names": {str(i): sorted(defined_names(_source(cells[i]))) for i in answers},
        "blank": {str(i): s for i, s in blank_answers(notebook).items()},
        "wrong": None,
    }
    if wrong:
        task = next((t for t in code_tasks if t.grade_id == wrong["task"]), None)
        if task is None:
            raise ValueError(f"wrong answer for unknown task {wrong['task']!r}; the code tasks "
                             f"are {[t.grade_id for t in code_tasks]}")
        plan["wrong"] = {"answer": str(task.answer), "source": wrong["answer"]}
    return f'''# grading probe (added by course_tools; not part of the notebook)
import json as _json
_plan = _json.loads({json.dumps(json.dumps(plan))})


def _runs(source):
    try:
        exec(compile(source, "<grading probe>", "exec"), globals())
        return True
    except BaseException:
        return False


def _failing():
    return sorted(g for g, sources in _plan["tests"].items()
                  if not all(_runs(s) for s in sources))


def _forget(answer):
    for name in _plan["names"][answer]:
        globals().pop(name, None)


_report = {{}}
if _plan["wrong"]:
    _forget(_plan["wrong"]["answer"])
    _report["wrong_answer_ran"] = _runs(_plan["wrong"]["source"])
    _report["wrong"] = _failing()
for _answer, _blank in _plan["blank"].items():
    _forget(_answer)
    _runs(_blank)
_report["blank"] = _failing()
print({PROBE_MARKER!r} + _json.dumps(_report))
'''


def probe_problems(notebook, output: str, wrong: dict | None) -> list[str]:
    """What the probe's ``output`` says is wrong with the notebook's tests, as sentences."""
    line = next((ln for ln in output.splitlines() if ln.startswith(PROBE_MARKER)), None)
    if line is None:
        return ["the grading probe printed no report (it failed; see the executed notebook)"]
    report = json.loads(line[len(PROBE_MARKER):])
    code_tasks = {t.grade_id for t in tasks(notebook) if t.kind == "code"}
    issues = [f"task {g!r}: its tests pass on the blank answers (a blank release would score)"
              for g in sorted(code_tasks - set(report["blank"]))]
    if wrong is None:
        issues.append("no deliberately wrong answer in tests/notebooks/wrong_answers.yaml")
    elif not report["wrong_answer_ran"]:
        issues.append(f"the wrong answer for {wrong['task']!r} raised an error: a wrong answer "
                      f"must run and compute something wrong")
    elif report["wrong"] != [wrong["task"]]:
        issues.append(f"with the wrong answer for {wrong['task']!r}, the failing tests are "
                      f"{report['wrong']}; exactly [{wrong['task']!r}] must fail")
    return issues


# --------------------------------------------------------------------- nbgrader commands
def header(notebook) -> str:
    """The markdown cell that opens a handed-out notebook: how it is graded."""
    found = tasks(notebook)
    code = [t for t in found if t.kind == "code"]
    written = [t for t in found if t.kind == "written"]
    return (f"> **Graded assignment.** {len(found)} tasks, "
            f"{sum(t.points for t in found):g} points: {len(code)} code answers "
            f"({sum(t.points for t in code):g} points), graded automatically, and "
            f"{len(written)} written answers ({sum(t.points for t in written):g} points), "
            f"graded by your instructor. Write your answers where it says `YOUR CODE HERE` or "
            f"`YOUR ANSWER HERE`, and run the notebook top to bottom: the test cell after each "
            f"code answer runs the visible checks (more, hidden checks are added when it is "
            f"graded). Keep the file name, and submit the notebook.")


def _nbgrader(course: Path, *args: str) -> None:
    """Run an nbgrader command on the course directory ``course``; raise with its log if it
    fails."""
    course = course.resolve()  # nbgrader resolves a relative root against the cwd we give it
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # alembic
    command = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}",
               f"--Execute.timeout={CELL_TIMEOUT}", "--force"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=course)
    errors = [ln for ln in done.stderr.splitlines() if "| ERROR]" in ln]
    if done.returncode != 0 or errors:
        raise RuntimeError(f"{' '.join(args)} failed in {course}:\n{done.stderr[-4000:]}")


def _add_source(course: Path, notebook_path: Path) -> str:
    """Copy a course notebook, with the grading header, into ``course/source/<stem>/``."""
    notebook = nbformat.read(notebook_path, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(header(notebook)))
    target = course / "source" / notebook_path.stem / notebook_path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return notebook_path.stem


def release_all(notebooks: Iterable[Path], out: Path) -> Path:
    """The nbgrader release version of every notebook, in ``out/release/<stem>/<stem>.ipynb``
    (solutions and hidden tests removed, outputs cleared, a grading header added); ``out`` is
    an nbgrader course directory."""
    if out.exists():
        shutil.rmtree(out)
    for path in notebooks:
        _nbgrader(out, "generate_assignment", _add_source(out, path))
    return out / "release"


def _grade_student(student_dir: Path, work: Path, feedback: Path) -> list[dict]:
    """Autograde one student's notebooks in a course directory of their own (so that students
    can be graded in parallel without sharing nbgrader's database); return grade rows."""
    from nbgrader.api import Gradebook

    student = student_dir.name
    course = work / student
    if course.exists():
        shutil.rmtree(course)
    stems = []
    for submission in sorted(student_dir.glob("*.ipynb")):
        source = NOTEBOOKS_DIR / submission.name
        if not source.is_file():
            raise ValueError(f"{submission}: no course notebook is called {submission.name}")
        stem = _add_source(course, source)
        _nbgrader(course, "generate_assignment", stem)
        target = course / "submitted" / student / stem / submission.name
        target.parent.mkdir(parents=True)
        shutil.copy(submission, target)
        _nbgrader(course, "autograde", stem, f"--student={student}")
        _nbgrader(course, "generate_feedback", stem, f"--student={student}")
        html = course / "feedback" / student / stem / f"{stem}.html"
        (feedback / student).mkdir(parents=True, exist_ok=True)
        shutil.copy(html, feedback / student / html.name)
        stems.append(stem)
    rows = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for stem in stems:
            notebook = gradebook.find_submission_notebook(stem, stem, student)
            for g in sorted(notebook.grades, key=lambda g: g.name):
                rows.append({"student": student, "notebook": stem, "task": g.name,
                             "points": "" if g.needs_manual_grade else g.score,
                             "max_points": g.max_score,
                             "needs_manual_grade": g.needs_manual_grade})
    return rows


def grade(submissions: Path, out: Path, jobs: int = 1) -> Path:
    """Autograde ``submissions/<student>/<notebook>.ipynb``; write ``out/grades.csv`` and the
    feedback HTML ``out/feedback/<student>/<notebook>.html``; return ``out``. Students are
    graded ``jobs`` at a time."""
    students = sorted(d for d in submissions.iterdir() if d.is_dir())
    if not students:
        raise ValueError(f"{submissions} holds no student folders (<student>/<notebook>.ipynb)")
    out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        per_student = list(pool.map(lambda d: _grade_student(d, out / "work", out / "feedback"),
                                    students))
    with open(out / "grades.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, ["student", "notebook", "task", "points", "max_points",
                                    "needs_manual_grade"])
        writer.writeheader()
        for rows in per_student:
            writer.writerows(rows)
    return out
