"""Execute the course notebooks with papermill, collect their metrics, print a summary.

This is what ``make course`` runs (``python -m course_lib run``). Each notebook runs in its own
papermill process under a wall-clock limit; the executed copy lands in the output directory,
the metrics recorded with :func:`course_lib.record` are gathered into ``metrics.json`` as
``{notebook stem: {metric: value}}``, and a failure names the notebook and the cell.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from .metrics import metrics_in
from .paths import NOTEBOOKS_DIR

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"


@dataclass
class RunResult:
    """How one notebook run went."""

    notebook: Path
    status: str  # "ok", "failed" or "timeout"
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)
    error: str = ""


def discover(directory: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The course notebooks (``NN_slug.ipynb``) in ``directory``, in course order."""
    return sorted(directory.glob(NOTEBOOK_GLOB))


def failing_cell(notebook: dict) -> str:
    """Describe the first cell with an error output: its prompt number, first line and error."""
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                first_line = "".join(cell.get("source", "")).strip().splitlines()[:1]
                return (f"cell In [{cell.get('execution_count')}] "
                        f"({first_line[0][:60] if first_line else 'empty'!r}): "
                        f"{output.get('ename')}: {output.get('evalue')}")
    return ""


def _kill_tree(process: subprocess.Popen) -> None:
    """Kill papermill and everything it started (its kernel runs in a session of its own)."""
    try:
        family = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    for proc in [*family, psutil.Process(process.pid)]:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    process.wait()
    psutil.wait_procs(family, timeout=10)


def run_notebook(notebook: Path, out_dir: Path, timeout: float) -> RunResult:
    """Execute one notebook with papermill into ``out_dir`` within ``timeout`` seconds."""
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / notebook.name
    command = [sys.executable, "-m", "papermill", str(notebook), str(output),
               "--cwd", str(notebook.parent), "--no-progress-bar", "--log-level", "ERROR"]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        log, _ = process.communicate(timeout=timeout)
        status = "ok" if process.returncode == 0 else "failed"
    except subprocess.TimeoutExpired:
        _kill_tree(process)
        log, status = "", "timeout"
    seconds = time.perf_counter() - start
    executed = json.loads(output.read_text()) if output.exists() else {}
    result = RunResult(notebook, status, seconds, metrics_in(executed))
    if status == "timeout":
        result.error = f"exceeded the time limit of {timeout:.0f} s"
    elif status == "failed":
        tail = log.strip().splitlines()[-1:] or ["papermill failed"]
        result.error = failing_cell(executed) or tail[0]
    return result


def summary_table(results: list[RunResult], max_metrics: int = 3) -> str:
    """A plain-text table: notebook, status, seconds and the first few metrics."""
    rows = [("notebook", "status", "seconds", "key metrics")]
    for r in results:
        shown = ", ".join(f"{k}={v:.4g}" for k, v in list(r.metrics.items())[:max_metrics])
        if len(r.metrics) > max_metrics:
            shown += f" (+{len(r.metrics) - max_metrics} more)"
        rows.append((r.notebook.stem, r.status, f"{r.seconds:.1f}", shown or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}" for a, b, c, d in rows]
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)


def run_course(notebooks: list[Path], out_dir: Path, timeout: float) -> int:
    """Run ``notebooks`` in order, write ``metrics.json``, print progress and a summary.

    Returns the process exit code: 0 if every notebook succeeded, 1 otherwise.
    """
    results = []
    for i, notebook in enumerate(notebooks, 1):
        print(f"[{i}/{len(notebooks)}] {notebook.stem} ...", flush=True)
        result = run_notebook(notebook, out_dir, timeout)
        print(f"[{i}/{len(notebooks)}] {notebook.stem}: {result.status} in "
              f"{result.seconds:.1f} s" + (f" -- {result.error}" if result.error else ""),
              flush=True)
        results.append(result)
    metrics = {r.notebook.stem: r.metrics for r in results}
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    print()
    print(summary_table(results))
    print(f"\nExecuted notebooks and metrics.json are in {out_dir}")
    failed = [r for r in results if r.status != "ok"]
    for r in failed:
        print(f"FAILED {r.notebook.name}: {r.error} (see {out_dir / r.notebook.name})",
              file=sys.stderr)
    return 1 if failed else 0
