"""Execute the course notebooks with papermill, collect their metrics, print a summary.

This is what ``make course`` runs (``python -m course_tools run``). Each notebook runs in its own
papermill process under a wall-clock limit, optionally with a parameter profile and several at
a time; the executed copy lands in the output directory, the metrics recorded with
:func:`course_lib.record` are gathered into ``metrics.json`` as
``{notebook stem: {metric: value}}``, a failure names the notebook and the cell, and with a
profile the metrics are checked against the baselines (:mod:`course_tools.baselines`).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
import yaml

from course_lib.paths import NOTEBOOKS_DIR
from course_lib.results import metrics_in

from . import baselines, grading, outputs

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
MEMORY_LIMIT_MB = 4096  # the course's rule: every notebook peaks under 4 GB


@dataclass
class RunResult:
    """How one notebook run went."""

    notebook: Path
    status: str  # "ok", "failed" or "timeout"
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)
    error: str = ""
    peak_mb: float = 0.0  # resident memory of the kernel and what it started, sampled
    mismatches: list[outputs.Mismatch] = field(default_factory=list)  # vs committed outputs
    grading: list[str] = field(default_factory=list)  # what the grading probe found wrong


class PeakMemory(threading.Thread):
    """Samples, until :meth:`stop`, the resident memory of every process below ``pid`` (for
    papermill: the kernel and whatever the notebook starts) and keeps the peak of their sum.

    Sampling every ``interval`` seconds can miss a spike shorter than that; a sum of resident
    sets counts shared pages twice. Both are acceptable for checking a budget of gigabytes.
    """

    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_bytes = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.interval):
            self.peak_bytes = max(self.peak_bytes, self.resident_bytes())

    def resident_bytes(self) -> int:
        """The summed resident memory of the processes below the root, now."""
        try:
            family = self.root.children(recursive=True)
        except psutil.NoSuchProcess:
            return 0
        total = 0
        for process in family:
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> float:
        """Stop sampling; return the peak in MB."""
        self._done.set()
        self.join()
        return self.peak_bytes / 2**20


def discover(directory: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The course notebooks (``NN_slug.ipynb``) in ``directory``, in course order."""
    return sorted(directory.glob(NOTEBOOK_GLOB))


def _first_line(cell: dict) -> str:
    lines = "".join(cell.get("source", "")).strip().splitlines()
    return lines[0][:60] if lines else "empty"


def failing_cell(notebook: dict, log_tail: str = "") -> str:
    """Describe the cell that stopped the run: its number among the code cells (``In [N]`` of a
    fresh run), first line and error. A cell that killed its kernel leaves no error output; it
    is the last cell that papermill started, and ``log_tail`` says why."""
    code = [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"
            and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    for number, cell in enumerate(code, 1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return (f"cell In [{number}] ({_first_line(cell)!r}): "
                        f"{output.get('ename')}: {output.get('evalue')}")
    started = [(n, c) for n, c in enumerate(code, 1)
               if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    if started:
        number, cell = started[-1]
        return f"cell In [{number}] ({_first_line(cell)!r}): {log_tail or 'papermill failed'}"
    return log_tail


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


def run_notebook(notebook: Path, out_dir: Path, timeout: float,
                 parameters: dict | None = None, compare_outputs: bool = False) -> RunResult:
    """Execute one notebook with papermill into ``out_dir`` within ``timeout`` seconds,
    passing ``parameters`` to its ``parameters`` cell; with ``compare_outputs``, compare the
    outputs of a successful run with the committed ones (:mod:`course_tools.outputs`) and,
    for a notebook with graded tasks, run the grading probe in the same kernel after the last
    cell (:func:`course_tools.grading.probe_source`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / notebook.name
    committed = json.loads(notebook.read_text())  # as it was when it ran, should it change
    source, wrong = notebook, None
    probe = compare_outputs and bool(grading.tasks(committed))
    if probe:
        wrong = grading.load_wrong_answers().get(notebook.stem)
        probed = copy.deepcopy(committed)
        probed["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                                "execution_count": None,
                                "source": grading.probe_source(committed, wrong)})
        source = out_dir / f"{notebook.stem}.with-grading-probe.ipynb"
        source.write_text(json.dumps(probed))
    command = [sys.executable, "-m", "papermill", str(source), str(output),
               "--cwd", str(notebook.parent), "--no-progress-bar", "--log-level", "ERROR"]
    if parameters:
        command += ["--parameters_yaml", yaml.safe_dump(parameters)]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    memory = PeakMemory(process.pid)
    memory.start()
    try:
        log, _ = process.communicate(timeout=timeout)
        status = "ok" if process.returncode == 0 else "failed"
    except subprocess.TimeoutExpired:
        _kill_tree(process)
        log, status = "", "timeout"
    seconds = time.perf_counter() - start
    executed = json.loads(output.read_text()) if output.exists() else {}
    if probe:
        source.unlink()
        probe_cell = executed["cells"].pop() if status == "ok" else None
        nbformat.write(nbformat.from_dict(executed), output)
    result = RunResult(notebook, status, seconds, metrics_in(executed), peak_mb=memory.stop())
    if status == "timeout":
        result.error = f"exceeded the time limit of {timeout:.0f} s"
    elif status == "failed":
        tail = log.strip().splitlines()[-1:] or ["papermill failed"]
        result.error = failing_cell(executed, tail[0])
    elif compare_outputs:
        result.mismatches = outputs.mismatches(committed, executed)
        if result.mismatches:
            result.status = "differs"
            result.error = (f"{len(result.mismatches)} cell(s) differ from the committed outputs")
        if probe:
            printed = "".join("".join(o.get("text", "")) for o in probe_cell.get("outputs", []))
            result.grading = grading.probe_problems(committed, printed, wrong)
    return result


def summary_table(results: list[RunResult], max_metrics: int = 3) -> str:
    """A plain-text table: notebook, status, seconds, peak MB and the first few metrics."""
    rows = [("notebook", "status", "seconds", "peak MB", "key metrics")]
    for r in results:
        shown = ", ".join(f"{k.split('.', 1)[-1]}={v:.4g}"  # the notebook names the topic
                          for k, v in list(r.metrics.items())[:max_metrics])
        if len(r.metrics) > max_metrics:
            shown += f" (+{len(r.metrics) - max_metrics} more)"
        rows.append((r.notebook.stem, r.status, f"{r.seconds:.1f}", f"{r.peak_mb:.0f}",
                     shown or "-"))
    w = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [f"{a:<{w[0]}}  {b:<{w[1]}}  {c:>{w[2]}}  {d:>{w[3]}}  {e}" for a, b, c, d, e in rows]
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)


def run_all(notebooks: list[Path], out_dir: Path, timeout: float,
            parameters: dict[str, dict], jobs: int = 1,
            compare_outputs: bool = False) -> list[RunResult]:
    """Run ``notebooks`` (``jobs`` at a time), printing a line as each starts and ends."""
    count = len(notebooks)

    def one(numbered: tuple[int, Path]) -> RunResult:
        i, notebook = numbered
        print(f"[{i}/{count}] {notebook.stem} ...", flush=True)
        result = run_notebook(notebook, out_dir, timeout, parameters.get(notebook.stem),
                              compare_outputs)
        print(f"[{i}/{count}] {notebook.stem}: {result.status} in {result.seconds:.1f} s"
              + (f" -- {result.error}" if result.error else ""), flush=True)
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, enumerate(notebooks, 1)))


def run_course(notebooks: list[Path], out_dir: Path, timeout: float, *,
               profile: str | None = None, jobs: int = 1,
               baselines_file: Path = baselines.BASELINES_FILE,
               update_baselines: bool = False, report: bool = False,
               memory_limit_mb: float = MEMORY_LIMIT_MB, compare_outputs: bool = False) -> int:
    """Run ``notebooks``, write ``metrics.json``, print a summary; with a ``profile``, pass its
    parameters and check the metrics against ``baselines`` (or rewrite them). With
    ``compare_outputs``, also compare each notebook's outputs with its committed ones, which is
    only meaningful for the committed parameters: a profile that overrides any parameter is
    refused before anything runs.

    Returns the process exit code: 0 if every notebook succeeded within ``memory_limit_mb``, no
    compared output differed and no metric regressed.
    """
    parameters = baselines.load_profile(profile) if profile else {}
    for notebook in notebooks:  # fail on a typo before spending minutes on execution
        baselines.check_parameters(notebook, parameters.get(notebook.stem, {}))
        if compare_outputs and parameters.get(notebook.stem):
            raise baselines.RegressionConfigError(
                f"outputs can only be compared at the committed parameters, but profile "
                f"{profile!r} sets {', '.join(parameters[notebook.stem])} for {notebook.name}")
    results = run_all(notebooks, out_dir, timeout, parameters, jobs, compare_outputs)
    metrics = {r.notebook.stem: r.metrics for r in results}
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    print()
    print(summary_table(results))
    failed = [f"{r.notebook.name}: {r.error} (see {out_dir / r.notebook.name})"
              for r in results if r.status not in ("ok", "differs")]
    failed += [f"{r.notebook.name} {m}" for r in results for m in r.mismatches]
    failed += [f"{r.notebook.name} grading: {g}" for r in results for g in r.grading]
    failed += [f"{r.notebook.name}: peak memory {r.peak_mb:.0f} MB is above the limit of "
               f"{memory_limit_mb:.0f} MB" for r in results if r.peak_mb > memory_limit_mb]
    checks = []
    if profile and update_baselines:
        diff = baselines.write_updated_baselines(baselines_file, profile, metrics)
        print(f"\n{baselines_file.name} updated for profile {profile!r}:\n{diff or '(no change)'}")
    elif profile:
        expected = baselines.load_baselines(baselines_file).get(profile, {})
        checks = baselines.compare(metrics, expected)
        print(f"\nMetrics against the {profile!r} baselines:\n{baselines.checks_table(checks)}")
        (out_dir / "regressions.md").write_text(
            f"# Metrics against the {profile!r} baselines\n\n"
            + baselines.checks_table(checks, markdown=True))
        failed += [f"{c.notebook} {c.metric}: {c.status} (value {c.value}, baseline "
                   f"{c.baseline})" for c in checks if c.failed]
    if report:
        from .report import write_index  # nbconvert is slow to import; only load it when asked

        title = f"Course run ({profile or 'committed'} parameters)"
        print(f"Report: {write_index(out_dir, title, results, checks)}")
    print(f"Executed notebooks and metrics.json are in {out_dir}")
    for line in failed:
        print(f"FAILED {line}", file=sys.stderr)
    bad = {r.notebook.stem for r in results
           if r.status != "ok" or r.peak_mb > memory_limit_mb or r.grading}
    bad |= {c.notebook for c in checks if c.failed}
    sys.stderr.flush()
    print(f"notebooks: {len(results) - len(bad)} passed, {len(bad)} failed", flush=True)
    return 1 if failed else 0
