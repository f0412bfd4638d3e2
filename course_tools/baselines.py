"""Regression checks: parameter profiles, metric baselines with tolerances, and their comparison.

Used by ``python -m course_tools run --profile NAME`` (``make regression``, ``make course``).

- A *profile* (``regression/profiles/NAME.yaml``) maps a notebook stem to the parameters that
  papermill passes to it: ``smoke`` is the fastest run that still executes every cell,
  ``default`` runs the committed parameters, ``full`` trains longer.
- The *baselines* (``regression/baselines.yaml``) give, per profile, notebook and metric, the
  expected value, a direction and a tolerance:

  ========== =========================================
  at_least   value >= baseline - tolerance
  at_most    value <= baseline + tolerance
  within     |value - baseline| <= tolerance
  ========== =========================================
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import papermill
import yaml

from course_lib.paths import PROJECT_ROOT

REGRESSION_DIR = PROJECT_ROOT / "regression"
PROFILES_DIR = REGRESSION_DIR / "profiles"
BASELINES_FILE = REGRESSION_DIR / "baselines.yaml"
DIRECTIONS = ("at_least", "at_most", "within")
REQUIRED_KEYS = {"baseline", "direction", "tolerance"}
# A metric that a notebook can only measure on some hardware (e.g. bfloat16 speed where
# AVX512_BF16 is in effect) says where; elsewhere its absence is reported, not failed.
ONLY_WHERE = "recorded_only_where"
# Share of |value| that --update-baselines gives a metric it sees for the first time.
NEW_METRIC_TOLERANCE = 0.05


class RegressionConfigError(ValueError):
    """A profile or baseline file is malformed, or names a parameter a notebook does not have."""


@dataclass(frozen=True)
class Check:
    """One metric compared with its baseline."""

    notebook: str
    metric: str
    baseline: float | None
    value: float | None
    direction: str | None
    tolerance: float | None
    # "ok", "REGRESSION", "MISSING" (not recorded), "NO BASELINE", or "not recorded here (...)"
    # for a metric recorded only on some hardware (not a failure)
    status: str

    @property
    def failed(self) -> bool:
        return self.status in ("REGRESSION", "MISSING", "NO BASELINE")


# ---------------------------------------------------------------- profiles
def available_profiles(directory: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (directory or PROFILES_DIR).glob("*.yaml"))


def load_profile(name: str, directory: Path | None = None) -> dict[str, dict]:
    """``{notebook stem: {PARAMETER: value}}`` for profile ``name`` (from :data:`PROFILES_DIR`
    unless ``directory`` is given)."""
    path = (directory or PROFILES_DIR) / f"{name}.yaml"
    if not path.is_file():
        raise RegressionConfigError(
            f"no profile {name!r}: expected {path}; available: {available_profiles(directory)}")
    profile = yaml.safe_load(path.read_text()) or {}
    if not isinstance(profile, dict) or not all(
            isinstance(v, dict) for v in profile.values() if v is not None):
        raise RegressionConfigError(f"{path}: must map notebook names to parameter mappings")
    return {notebook: params or {} for notebook, params in profile.items()}


def check_parameters(notebook: Path, parameters: dict) -> None:
    """Raise unless every name in ``parameters`` is in the notebook's ``parameters`` cell.

    Papermill only warns about unknown names and runs on, which would hide a typo in a profile.
    """
    known = papermill.inspect_notebook(str(notebook))
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise RegressionConfigError(
            f"{notebook.name} has no parameter {', '.join(unknown)}; "
            f"its parameters are {', '.join(known) or 'none'}")


# ---------------------------------------------------------------- baselines
def load_baselines(path: Path = BASELINES_FILE) -> dict:
    """``{profile: {notebook: {metric: {baseline, direction, tolerance}}}}``, validated."""
    baselines = yaml.safe_load(path.read_text()) if path.is_file() else {}
    for profile, notebooks in (baselines or {}).items():
        for notebook, metrics in (notebooks or {}).items():
            for metric, spec in (metrics or {}).items():
                where = f"{path.name}: {profile} / {notebook} / {metric}"
                if not isinstance(spec, dict) or not REQUIRED_KEYS <= set(spec) <= {
                        *REQUIRED_KEYS, ONLY_WHERE}:
                    raise RegressionConfigError(
                        f"{where}: needs baseline, direction and tolerance (and optionally "
                        f"{ONLY_WHERE})")
                if ONLY_WHERE in spec and not (isinstance(spec[ONLY_WHERE], str)
                                               and spec[ONLY_WHERE].strip()):
                    raise RegressionConfigError(f"{where}: {ONLY_WHERE} must say where")
                if spec["direction"] not in DIRECTIONS:
                    raise RegressionConfigError(
                        f"{where}: direction must be one of {DIRECTIONS}, not "
                        f"{spec['direction']!r}")
                if not (isinstance(spec["tolerance"], (int, float)) and spec["tolerance"] >= 0):
                    raise RegressionConfigError(f"{where}: tolerance must be a number >= 0")
    return baselines or {}


def passes(value: float, baseline: float, direction: str, tolerance: float) -> bool:
    """Whether ``value`` is acceptable given the baseline, direction and tolerance."""
    if direction == "at_least":
        return value >= baseline - tolerance
    if direction == "at_most":
        return value <= baseline + tolerance
    if direction == "within":
        return abs(value - baseline) <= tolerance
    raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}")


def compare(metrics: dict[str, dict[str, float]], expected: dict[str, dict]) -> list[Check]:
    """Compare recorded ``metrics`` of the notebooks that ran with one profile's baselines."""
    checks = []
    for notebook in sorted(metrics):
        recorded, specs = metrics[notebook], expected.get(notebook) or {}
        for metric in sorted(set(recorded) | set(specs)):
            spec, value = specs.get(metric), recorded.get(metric)
            if spec is None:
                checks.append(Check(notebook, metric, None, value, None, None, "NO BASELINE"))
                continue
            if value is None:
                status = (f"not recorded here (only where {spec[ONLY_WHERE]})"
                          if ONLY_WHERE in spec else "MISSING")
            else:
                ok = passes(value, spec["baseline"], spec["direction"], spec["tolerance"])
                status = "ok" if ok else "REGRESSION"
            checks.append(Check(notebook, metric, spec["baseline"], value, spec["direction"],
                                spec["tolerance"], status))
    return checks


def _fmt(number: float | None) -> str:
    return "-" if number is None else f"{number:.6g}"


def _tolerance_text(check: Check) -> str:
    if check.direction is None:
        return "-"
    sign = {"at_least": "≥ baseline − ", "at_most": "≤ baseline + ", "within": "± "}
    return f"{sign[check.direction]}{_fmt(check.tolerance)}"


CHECK_HEADER = ("notebook", "metric", "baseline", "value", "tolerance", "status")


def check_row(check: Check) -> tuple[str, ...]:
    """One check as the cells of :data:`CHECK_HEADER`."""
    return (check.notebook, check.metric, _fmt(check.baseline), _fmt(check.value),
            _tolerance_text(check), check.status)


def checks_table(checks: list[Check], markdown: bool = False) -> str:
    """The comparison as a text table, or as a Markdown table with ``markdown=True``."""
    header = CHECK_HEADER
    rows = [check_row(c) for c in checks]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)


def updated_baselines(baselines: dict, profile: str,
                      metrics: dict[str, dict[str, float]]) -> dict:
    """A copy of ``baselines`` whose ``profile`` entries for the notebooks that ran take their
    values from ``metrics``: directions and tolerances are kept, metrics no longer recorded are
    dropped (unless they are only recorded on some hardware), new ones get ``within`` ± 5% of
    their value."""
    result = {p: dict(n) for p, n in baselines.items()}
    section = result.setdefault(profile, {})
    for notebook, recorded in metrics.items():
        old = section.get(notebook) or {}
        updated = {}
        for metric, spec in old.items():
            if ONLY_WHERE in spec and metric not in recorded:  # not measurable on this machine
                updated[metric] = spec
        for metric, value in recorded.items():
            spec = old.get(metric, {})
            updated[metric] = {"baseline": value, "direction": spec.get("direction", "within"),
                               "tolerance": spec.get("tolerance", _new_tolerance(value)),
                               **({ONLY_WHERE: spec[ONLY_WHERE]} if ONLY_WHERE in spec else {})}
        section[notebook] = dict(sorted(updated.items()))
    return result


def _new_tolerance(value: float) -> float:
    return float(f"{abs(value) * NEW_METRIC_TOLERANCE:.3g}") if value else 0.0


def dump_baselines(baselines: dict) -> str:
    header = ("# Expected metrics per profile and notebook; see course_tools/baselines.py.\n"
              "# Rewrite values from a run with: python -m course_tools run --profile NAME "
              "--update-baselines\n")
    return header + yaml.safe_dump(baselines, sort_keys=True, allow_unicode=True, width=100)


def write_updated_baselines(path: Path, profile: str,
                            metrics: dict[str, dict[str, float]]) -> str:
    """Rewrite the baseline file from ``metrics``; return the unified diff of the change."""
    before = path.read_text() if path.is_file() else ""
    after = dump_baselines(updated_baselines(load_baselines(path), profile, metrics))
    path.write_text(after)
    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                        f"{path.name} (before)", f"{path.name} (after)"))
