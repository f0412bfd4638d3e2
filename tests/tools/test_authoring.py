"""Author tools: the student version drops solutions and keeps everything else."""

import nbformat

from course_tools.authoring import PLACEHOLDER, student_version


def test_student_version_replaces_solutions():
    cells = [nbformat.v4.new_markdown_cell("## Exercises"),
             nbformat.v4.new_code_cell("answer = 42", execution_count=1),
             nbformat.v4.new_markdown_cell("Because 6 × 7."),
             nbformat.v4.new_code_cell("print('kept')", execution_count=2)]
    cells[1].metadata["tags"] = ["solution"]
    cells[2].metadata["tags"] = ["solution"]
    cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    teacher = nbformat.v4.new_notebook(cells=cells)
    student = student_version(teacher)
    assert [c.source for c in student.cells] == ["## Exercises", PLACEHOLDER, "print('kept')"]
    assert student.cells[1].outputs == [] and student.cells[1].execution_count is None
    assert len(teacher.cells) == 4 and teacher.cells[1].source == "answer = 42"  # untouched
