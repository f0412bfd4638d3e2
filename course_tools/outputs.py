"""Compare a freshly executed notebook's outputs with the committed ones, cell by cell.

``make test`` executes every notebook once (:mod:`course_tools.runner`); this module then checks
the outputs that are facts of the code on every machine -- shapes, parameter counts, formulas,
integer results, tables of exact values, dataset checks, error messages -- against the committed
notebook. Results of float training and timings differ in their last digits from one CPU to
another (oneDNN picks kernels by CPU), so their cells are tagged ``nbval-ignore-output`` and are
guarded by the notebook's own asserts and by the metric baselines instead.

The rules are nbval's, so its tags and sanitize file keep their meaning:

- a code cell tagged ``nbval-ignore-output`` is not compared (its asserts still ran);
- stream outputs are joined per stream (how text is split into chunks varies from run to run);
- images and the machine-readable payload of a recorded metric are not compared (the metric's
  text line is: a recorded value that must not vary belongs in an untagged cell);
- every text is passed through the regex replacements of ``tests/nbval_sanitize.cfg``
  (TensorFlow's C++ log lines, addresses, temporary paths, timestamps).
"""

from __future__ import annotations

import configparser
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from course_lib.paths import PROJECT_ROOT
from course_lib.results import MIME_TYPE

IGNORE_TAG = "nbval-ignore-output"
SANITIZE_FILE = PROJECT_ROOT / "tests" / "nbval_sanitize.cfg"
NOT_COMPARED = {"image/png", "image/jpeg", "image/svg+xml", MIME_TYPE,
                "application/vnd.jupyter.widget-view+json"}
PAPERMILL_TAG = "injected-parameters"


@dataclass(frozen=True)
class Mismatch:
    """A code cell whose outputs differ from the committed ones."""

    cell: int  # execution count in the committed notebook (In [N])
    first_line: str
    diff: str

    def __str__(self) -> str:
        return f"cell In [{self.cell}] ({self.first_line!r}): output differs\n{self.diff}"


def load_sanitizers(path: Path = SANITIZE_FILE) -> list[tuple[re.Pattern, str]]:
    """The (regex, replacement) pairs of an nbval sanitize file, in file order."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(path.read_text())
    return [(re.compile(parser[s]["regex"]), parser[s]["replace"]) for s in parser.sections()]


def _sanitized(text: str, sanitizers: list[tuple[re.Pattern, str]]) -> str:
    for pattern, replacement in sanitizers:
        text = pattern.sub(replacement, text)
    return text


def comparable(outputs: list[dict], sanitizers: list[tuple[re.Pattern, str]]) -> list[str]:
    """The outputs of one cell as the lines that are compared (see the module docstring)."""
    streams: dict[str, str] = {}
    pieces: list[tuple[str, str]] = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            name = output.get("name", "stdout")
            if name not in streams:
                pieces.append((f"stream {name}", name))
                streams[name] = ""
            streams[name] += "".join(output.get("text", ""))
        elif kind == "error":
            pieces.append(("error", f"{output.get('ename')}: {output.get('evalue')}"))
        else:
            for mime, value in sorted(output.get("data", {}).items()):
                if mime not in NOT_COMPARED:
                    text = value if isinstance(value, str) else "".join(value)
                    pieces.append((mime, text))
    lines = []
    for label, content in pieces:
        text = streams[content] if label.startswith("stream ") else content
        lines.append(f"[{label}]")
        lines += _sanitized(text, sanitizers).splitlines()
    return lines


def _code_cells(notebook: dict) -> list[dict]:
    return [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"
            and PAPERMILL_TAG not in c.get("metadata", {}).get("tags", [])]


def mismatches(committed: dict, executed: dict,
               sanitizers: list[tuple[re.Pattern, str]] | None = None) -> list[Mismatch]:
    """Every compared code cell of ``executed`` whose outputs differ from ``committed``'s.

    Both are notebooks as read by ``nbformat``/``json``. Raises ValueError when the two do not
    have the same code cells (the executed copy must come from the committed notebook).
    """
    sanitizers = load_sanitizers() if sanitizers is None else sanitizers
    reference, fresh = _code_cells(committed), _code_cells(executed)
    sources = ["".join(c.get("source", "")) for c in reference]
    if sources != ["".join(c.get("source", "")) for c in fresh]:
        raise ValueError("the executed notebook does not have the committed notebook's code cells")
    found = []
    for ref, new, source in zip(reference, fresh, sources, strict=True):
        if IGNORE_TAG in ref.get("metadata", {}).get("tags", []):
            continue
        expected = comparable(ref.get("outputs", []), sanitizers)
        got = comparable(new.get("outputs", []), sanitizers)
        if expected != got:
            diff = "\n".join(difflib.unified_diff(expected, got, "committed", "this run",
                                                  lineterm="", n=1))
            found.append(Mismatch(ref.get("execution_count") or 0,
                                  (source.strip().splitlines() or [""])[0][:60], diff))
    return found
