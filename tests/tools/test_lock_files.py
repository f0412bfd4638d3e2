"""The environment files agree: pyproject.toml -> requirements.txt (lock) -> environment.yml."""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def lock_entries() -> list[tuple[Requirement, list[str]]]:
    """Each pin of requirements.txt with its sha256 hashes (the indented --hash lines)."""
    entries: list[tuple[Requirement, list[str]]] = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line and line[0] not in "# \t-":
            entries.append((Requirement(line.removesuffix("\\").strip()), []))
        elif line.strip().startswith("--hash="):
            entries[-1][1].append(line.strip().removesuffix("\\").strip())
    return entries


def lock_pins() -> dict[str, list[Requirement]]:
    pins: dict[str, list[Requirement]] = {}
    for requirement, _ in lock_entries():
        pins.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    return pins


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_lock_entry_is_an_exact_pin():
    for name, requirements in lock_pins().items():
        for requirement in requirements:
            (spec,) = requirement.specifier
            assert spec.operator == "==", f"{name} is not pinned exactly in requirements.txt"


def test_every_lock_entry_has_sha256_hashes():
    entries = lock_entries()
    assert len(entries) > 100
    for requirement, hashes in entries:
        assert hashes, f"{requirement.name} has no --hash in requirements.txt: run make lock"
        assert all(re.fullmatch(r"--hash=sha256:[0-9a-f]{64}", h) for h in hashes), hashes


def test_makefile_installs_the_lock_in_hash_checking_mode():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r requirements.txt" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile


def test_every_declared_dependency_is_in_the_lock():
    project = pyproject()["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared += extra
    pins = lock_pins()
    for text in declared:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is declared in pyproject.toml but not locked: run make lock"
        for pin in pins[name]:
            (spec,) = pin.specifier
            assert requirement.specifier.contains(spec.version), (
                f"lock pins {name}=={spec.version}, outside pyproject's {requirement.specifier}: "
                "run make lock")


def test_tensorflow_is_the_cpu_build_on_linux_and_the_full_build_on_macos():
    pins = lock_pins()
    linux = {"sys_platform": "linux", "python_full_version": "3.11.7"}
    macos = {"sys_platform": "darwin", "python_full_version": "3.11.7"}
    assert all(r.marker.evaluate(linux) and not r.marker.evaluate(macos)
               for r in pins["tensorflow-cpu"])
    assert all(r.marker.evaluate(macos) and not r.marker.evaluate(linux)
               for r in pins["tensorflow"])


def test_environment_yml_installs_exactly_the_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = [], None
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            pip = entry["pip"]
        else:
            conda.append(entry)
    # Only the lock: pip refuses an editable install next to hashed pins, so the file's
    # comment says to run `pip install --no-deps -e .` after `conda activate`.
    assert pip == ["-r requirements.txt"], (
        "environment.yml must install the lock and nothing else, so that it cannot drift from "
        "requirements.txt")
    assert "pip install --no-deps -e ." in (ROOT / "environment.yml").read_text()
    assert sorted(re.split(r"[=<>]", c)[0] for c in conda) == ["pip", "python"]


def test_python_versions_agree():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_python = next(e for e in env["dependencies"] if str(e).startswith("python="))
    lock_header = (ROOT / "requirements.txt").read_text()
    locked_for = re.search(r"--python-version (\d+\.\d+)", lock_header).group(1)
    assert conda_python == f"python={locked_for}"
    assert pyproject()["project"]["requires-python"] == f">={locked_for}"


def test_makefile_locks_with_the_command_recorded_in_the_lock():
    header = (ROOT / "requirements.txt").read_text().splitlines()[1]
    command = header.lstrip("# ").replace("uv pip compile", "").split()
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    lock_recipe = re.search(r"^lock:.*\n\t(.*)$", makefile, re.M).group(1).split()
    assert lock_recipe[1:] == ["pip", "compile", *command]
