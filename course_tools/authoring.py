"""Author tools: re-execute a notebook in place.

Used through ``python -m course_tools execute`` (``make execute NB=...``). Student versions are
nbgrader's release versions (:mod:`course_tools.grading`, ``make assignments``).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute_in_place(path: Path, timeout: float = 600) -> None:
    """Run a notebook top to bottom in a fresh kernel and save it with its outputs.

    Timing metadata is not recorded, so re-executing an unchanged notebook gives a clean diff.
    """
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            record_timing=False, resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nbformat.write(notebook, path)
