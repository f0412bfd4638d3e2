"""Every notebook rejects a bad parameter within seconds, in its validation cell, naming it.

CONTRIBUTING.md: SEED is every notebook's first parameter, an int >= 0, validated in the cell
right after the parameters cell. Notebooks alternate between a wrongly typed and an
out-of-range SEED, so both kinds of mistake are covered across the course.
"""

import json

import pytest

from course_tools import runner

NOTEBOOKS = runner.discover()
BAD_SEEDS = [("not-a-number", "parameter SEED must be an int; got str 'not-a-number'"),
             (-1, "parameter SEED is out of range: need 0 ≤ SEED")]
CASES = [(path, *BAD_SEEDS[i % 2]) for i, path in enumerate(NOTEBOOKS)]


@pytest.mark.parametrize("notebook,seed,message", CASES, ids=[p.stem for p in NOTEBOOKS])
def test_bad_seed_fails_fast_and_clearly(notebook, seed, message, tmp_path):
    result = runner.run_notebook(notebook, tmp_path, timeout=120, parameters={"SEED": seed})
    assert result.status == "failed"
    assert "ParameterError" in result.error and message in result.error, result.error
    assert result.seconds < 30, "validation must come before anything slow"
    cells = json.loads((tmp_path / notebook.name).read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    failing = next(i for i, c in enumerate(code)
                   if any(o["output_type"] == "error" for o in c.get("outputs", [])))
    assert "injected-parameters" in code[failing - 1]["metadata"].get("tags", []), (
        "the failing cell must be the one right after the parameters")
