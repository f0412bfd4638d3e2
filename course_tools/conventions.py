"""The mechanical notebook conventions of CONTRIBUTING.md, as a checker.

Used by ``tests/notebooks/test_notebooks.py`` (so CI enforces them) and by ``python -m
course_tools execute`` (so an author sees problems right after re-executing a notebook).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from course_lib.paths import PROJECT_ROOT
from course_tools import grading

MAX_BYTES = 2_000_000
NAME = re.compile(r"^(\d\d)_[a-z0-9]+(_[a-z0-9]+)*\.ipynb$")
# Temp paths, home directories, the checkout's own path and memory addresses make outputs
# machine-specific.
VOLATILE = re.compile(r"/tmp/|/var/folders/|/root/|/home/\w+|/Users/\w+| at 0x[0-9a-fA-F]{6,}|"
                      + re.escape(str(PROJECT_ROOT)))
IGNORE_TAG = "nbval-ignore-output"


def _source(cell: dict) -> str:
    return "".join(cell.get("source", ""))


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _output_text(output: dict) -> str:
    text = "".join(output.get("text", ""))
    for value in output.get("data", {}).values():
        if isinstance(value, (str, list)):
            text += "".join(value)
    return text


def _structure_problems(path: Path, cells: list[dict]) -> list[str]:
    problems = []
    number = NAME.match(path.name)
    if not number:
        problems.append("file name must be NN_slug.ipynb (two digits, lower-case words and _)")
    title = _source(cells[0]) if cells else ""
    if not cells or cells[0]["cell_type"] != "markdown" or not title.startswith("# "):
        problems.append("the first cell must be a markdown title '# NN · Title'")
    elif number and not title.startswith(f"# {number.group(1)} · "):
        problems.append(f"the title must start with '# {number.group(1)} · '")
    elif "run time" not in title.lower():
        problems.append("the title cell must state the measured run time")
    code = [c for c in cells if c["cell_type"] == "code"]
    tagged = [i for i, c in enumerate(code) if "parameters" in _tags(c)]
    if len(tagged) != 1:
        problems.append(f"exactly one code cell must be tagged 'parameters' (found {len(tagged)})")
    elif tagged[0] + 1 >= len(code) or "check_param" not in _source(code[tagged[0] + 1]):
        problems.append("the code cell after 'parameters' must validate them with check_param")
    for c in code:
        tagged_ignore = IGNORE_TAG in _tags(c)
        says_ignore = _source(c).startswith(f"# {IGNORE_TAG}")
        if tagged_ignore and not _source(c).lstrip().startswith("#"):
            problems.append(f"a cell tagged {IGNORE_TAG} must start with a comment saying why: "
                            f"{_source(c)[:50]!r}")
        elif says_ignore and not tagged_ignore:
            problems.append(f"a cell whose comment says {IGNORE_TAG} must carry that tag: "
                            f"{_source(c)[:50]!r}")
    if not any(c["cell_type"] == "markdown" and re.search(r"(?m)^## Exercises", _source(c))
               for c in cells):
        problems.append("the notebook must end with a '## Exercises' section")
    return problems


def _execution_problems(cells: list[dict]) -> list[str]:
    problems = []
    counts = [c.get("execution_count") for c in cells if c["cell_type"] == "code"]
    if counts != list(range(1, len(counts) + 1)):
        problems.append("code cells must be executed in order from a fresh kernel (1, 2, 3, ...)")
    for c in cells:
        for output in c.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"error output {output.get('ename')} in {_source(c)[:50]!r}")
            elif m := VOLATILE.search(_output_text(output)):
                problems.append(f"temp path, home path or memory address {m.group(0)!r} in the "
                                f"output of {_source(c)[:50]!r}")
    return problems


def problems(path: Path) -> list[str]:
    """Every convention that the notebook at ``path`` breaks, as readable sentences."""
    path = Path(path)
    found = []
    if (size := path.stat().st_size) > MAX_BYTES:
        found.append(f"{size / 1e6:.1f} MB is over the {MAX_BYTES / 1e6:.0f} MB limit")
    cells = json.loads(path.read_text())["cells"]
    return (found + _structure_problems(path, cells)
            + [f"exercises: {p}" for p in grading.problems({"cells": cells})]
            + _execution_problems(cells))
