"""Command line: ``python -m course_tools {run,execute,baselines,assignments,grade} ...``
(see ``--help``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from course_lib.results import metrics_in

from . import authoring, baselines, conventions, grading, runner


def _notebooks(given: list[str]) -> list[Path]:
    paths = [Path(p) for p in given] or runner.discover()
    if not paths:
        sys.exit(f"no notebooks found in {runner.NOTEBOOKS_DIR}")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        sys.exit(f"no such notebook: {', '.join(missing)}")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="execute notebooks with papermill, collect metrics")
    run.add_argument("notebooks", nargs="*", help="default: every notebooks/NN_*.ipynb")
    run.add_argument("--out", type=Path, default=Path("build"), help="default: build/")
    run.add_argument("--timeout", type=float, default=600,
                     help="wall-clock limit per notebook in seconds (default: 600)")
    run.add_argument("--profile", help="parameter profile in regression/profiles/ "
                     f"({', '.join(baselines.available_profiles())}); checks the baselines")
    run.add_argument("-j", "--jobs", type=int, default=1, help="notebooks run at a time")
    run.add_argument("--baselines", type=Path, default=baselines.BASELINES_FILE)
    run.add_argument("--update-baselines", action="store_true",
                     help="rewrite the profile's baselines from this run and show the diff")
    run.add_argument("--compare-outputs", action="store_true",
                     help="compare every cell's outputs with the committed notebook, except "
                     "cells tagged nbval-ignore-output (only at the committed parameters)")
    run.add_argument("--report", action="store_true",
                     help="render the executed notebooks and an index page to HTML")
    run.add_argument("--memory-limit", type=float, default=runner.MEMORY_LIMIT_MB,
                     help="peak memory allowed per notebook in MB, kernel and the processes "
                     f"it starts (default: {runner.MEMORY_LIMIT_MB})")

    execute = commands.add_parser("execute", help="re-execute notebooks in place (authors)")
    execute.add_argument("notebooks", nargs="+")
    execute.add_argument("--timeout", type=float, default=600, help="per-cell limit, seconds")

    record = commands.add_parser(
        "baselines", help="rewrite a profile's baselines from notebooks that already ran")
    record.add_argument("--profile", default="default")
    record.add_argument("--from", dest="source", type=Path, default=runner.NOTEBOOKS_DIR,
                        help="folder of executed notebooks (default: the committed notebooks, "
                        "which ran with the default profile)")
    record.add_argument("--baselines", type=Path, default=baselines.BASELINES_FILE)

    assign = commands.add_parser("assignments", help="nbgrader release versions of notebooks")
    assign.add_argument("notebooks", nargs="*", help="default: every notebooks/NN_*.ipynb")
    assign.add_argument("--out", type=Path, default=Path("build/assignments"),
                        help="the nbgrader course directory to write (default: "
                        "build/assignments; replaced)")

    grade = commands.add_parser("grade", help="autograde submissions with nbgrader")
    grade.add_argument("submissions", type=Path, help="folder laid out <student>/<notebook>.ipynb")
    grade.add_argument("--out", type=Path, default=Path("build/grades"))
    grade.add_argument("-j", "--jobs", type=int, default=1, help="students graded at a time")

    args = parser.parse_args(argv)
    if args.command == "grade":
        if not args.submissions.is_dir():
            parser.error(f"no such folder: {args.submissions}")
        if args.jobs < 1:
            parser.error("--jobs must be at least 1")
        try:
            out = grading.grade(args.submissions, args.out, args.jobs)
        except (ValueError, RuntimeError) as error:
            sys.exit(f"error: {error}")
        print(f"grades: {out / 'grades.csv'}; feedback: {out / 'feedback'}/<student>/")
        return 0
    if args.command == "baselines":
        executed = runner.discover(args.source)
        metrics = {p.stem: metrics_in(json.loads(p.read_text())) for p in executed}
        diff = baselines.write_updated_baselines(args.baselines, args.profile, metrics)
        print(diff or f"{args.baselines.name}: no change")
        return 0
    notebooks = _notebooks(args.notebooks)
    if args.command == "run":
        if args.update_baselines and not args.profile:
            parser.error("--update-baselines needs --profile")
        if args.jobs < 1:
            parser.error("--jobs must be at least 1")
        try:
            return runner.run_course(notebooks, args.out, args.timeout, profile=args.profile,
                                     jobs=args.jobs, baselines_file=args.baselines,
                                     update_baselines=args.update_baselines, report=args.report,
                                     memory_limit_mb=args.memory_limit,
                                     compare_outputs=args.compare_outputs)
        except baselines.RegressionConfigError as error:
            sys.exit(f"error: {error}")
    if args.command == "execute":
        status = 0
        for path in notebooks:
            print(f"executing {path} ...", flush=True)
            authoring.execute_in_place(path, args.timeout)
            for problem in conventions.problems(path):
                print(f"  convention: {problem}")
                status = 1
        return status
    release = grading.release_all(notebooks, args.out)
    print(f"release versions: {release}/<notebook>/<notebook>.ipynb (nbgrader course "
          f"directory: {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
