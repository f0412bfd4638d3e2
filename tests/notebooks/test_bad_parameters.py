"""Every notebook rejects a bad parameter within seconds, in its validation cell, naming it.

CONTRIBUTING.md: SEED is every notebook's first parameter, an int >= 0, validated in the cell
right after the parameters cell. Notebooks alternate between a wrongly typed and an
out-of-range SEED, so both kinds of mistake are covered across the course.
"""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from course_tools import runner

NOTEBOOKS = runner.discover()
BAD_SEEDS = [("not-a-number", "parameter SEED must be an int; got str 'not-a-number'"),
             (-1, "parameter SEED is out of range: need 0 ≤ SEED")]
CASES = [(path, *BAD_SEEDS[i % 2]) for i, path in enumerate(NOTEBOOKS)]
# Each test starts a kernel and runs a notebook (up to its 120 s limit).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory):
    """Every notebook run once with its bad SEED, four at a time: each run only starts a kernel
    and fails in its second cell, so running them side by side saves most of a minute."""
    out = tmp_path_factory.mktemp("bad_parameters")

    def run(case):
        notebook, seed, _ = case
        result = runner.run_notebook(notebook, out / notebook.stem, timeout=120,
                                     parameters={"SEED": seed})
        return result, out / notebook.stem / notebook.name

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip([c[0] for c in CASES], pool.map(run, CASES), strict=True))


@pytest.mark.parametrize("notebook,seed,message", CASES, ids=[p.stem for p in NOTEBOOKS])
def test_bad_seed_fails_fast_and_clearly(notebook, seed, message, bad_runs):
    result, executed_path = bad_runs[notebook]
    assert result.status == "failed"
    assert "ParameterError" in result.error and message in result.error, result.error
    assert result.seconds < 30, "validation must come before anything slow"
    executed = json.loads(executed_path.read_text())
    code = [c for c in executed["cells"] if c["cell_type"] == "code"]
    failing = next(i for i, c in enumerate(code)
                   if any(o["output_type"] == "error" for o in c.get("outputs", [])))
    assert "injected-parameters" in code[failing - 1]["metadata"].get("tags", []), (
        "the failing cell must be the one right after the parameters")
