"""Author tools: re-execute a notebook in place, and make the student version of a notebook.

Used through ``python -m course_tools execute`` (``make execute NB=...``) and
``python -m course_tools student`` (``make student``).
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
from nbclient import NotebookClient

SOLUTION_TAG = "solution"
PLACEHOLDER = "# Your solution here.\n"


def execute_in_place(path: Path, timeout: float = 600) -> None:
    """Run a notebook top to bottom in a fresh kernel and save it with its outputs.

    Timing metadata is not recorded, so re-executing an unchanged notebook gives a clean diff.
    """
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            record_timing=False, resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nbformat.write(notebook, path)


def student_version(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` whose ``solution``-tagged cells are replaced by empty exercises.

    A solution code cell becomes a code cell holding only a placeholder comment; a solution
    markdown cell is dropped. Outputs of the replaced cells go with them.
    """
    student = copy.deepcopy(notebook)
    cells = []
    for cell in student.cells:
        if SOLUTION_TAG not in cell.get("metadata", {}).get("tags", []):
            cells.append(cell)
        elif cell.cell_type == "code":
            cells.append(nbformat.v4.new_code_cell(PLACEHOLDER))
    student.cells = cells
    return student
