"""The package declares what it imports, and works installed outside a checkout.

pyproject.toml must name every distribution that course_lib, course_tools or a notebook imports
(a user who installs course-lib gets all of them), and every one the tests import must be a
dependency or in the ``test`` extra. The non-editable case is simulated by moving where
course_lib.paths thinks it lives.
"""

import ast
import json
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from course_lib import data, environment, paths

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"course_lib", "course_tools", "conftest", "sitecustomize"}


def _imports(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _notebook_imports(path: Path) -> set[str]:
    found = set()
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            lines = "".join(cell["source"]).splitlines()
            found |= _imports("\n".join("" if line.lstrip()[:1] in ("%", "!") else line
                                        for line in lines))
    return found


def _third_party(modules: set[str]) -> set[str]:
    return {m for m in modules if m not in sys.stdlib_module_names and m not in FIRST_PARTY}


def _declared(*extras: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    texts = list(project["dependencies"])
    for extra in extras:
        texts += project["optional-dependencies"][extra]
    return {canonicalize_name(Requirement(text).name) for text in texts}


def _undeclared(modules: set[str], declared: set[str]) -> dict[str, list[str]]:
    distributions = metadata.packages_distributions()
    missing = {}
    for module in sorted(_third_party(modules)):
        provided_by = {canonicalize_name(d) for d in distributions.get(module, [])}
        if not provided_by & declared:
            missing[module] = sorted(provided_by) or ["(not installed)"]
    return missing


def test_every_runtime_import_is_a_declared_dependency():
    modules = set()
    for package in ("course_lib", "course_tools"):
        for path in (ROOT / package).rglob("*.py"):
            modules |= _imports(path.read_text())
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        modules |= _notebook_imports(path)
    assert {"yaml", "nbformat", "ml_dtypes", "tensorflow"} <= modules  # the scan works
    assert _undeclared(modules, _declared()) == {}, (
        "imported but not in pyproject's dependencies (module: distributions)")


def test_every_test_import_is_declared_with_the_test_extra():
    modules = set()
    for path in [*ROOT.glob("conftest.py"), *(ROOT / "tests").rglob("*.py")]:
        modules |= _imports(path.read_text())
    assert {"pytest", "hypothesis"} <= modules
    assert _undeclared(modules, _declared("test")) == {}


def test_licence_covers_code_and_course_text():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT AND CC-BY-4.0"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert "MIT License" in text and "Creative Commons Attribution 4.0" in text


# ---------------------------------------------------------------- outside a checkout
@pytest.fixture
def no_checkout(tmp_path, monkeypatch):
    """course_lib as if installed in site-packages, run from a directory outside any checkout."""
    site = tmp_path / "site-packages"
    (site / "course_lib").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setattr(paths, "PACKAGE_DIR", site / "course_lib")
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv(paths.ROOT_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setattr(sys, "platform", "linux")
    return tmp_path


def test_the_checkout_is_found_from_the_package_or_the_environment(tmp_path, monkeypatch):
    assert paths.find_checkout() == ROOT == paths.CHECKOUT == paths.PROJECT_ROOT
    fake = tmp_path / "course"
    for name in ("course_lib", "notebooks"):
        (fake / name).mkdir(parents=True)
    (fake / "pyproject.toml").write_text("")
    monkeypatch.setenv(paths.ROOT_ENV, str(fake))
    assert paths.find_checkout() == fake  # $COURSE_ROOT comes first


def test_without_a_checkout_the_cache_is_per_user(no_checkout, monkeypatch):
    assert paths.find_checkout() is None
    monkeypatch.delenv(data.CACHE_DIR_ENV)
    expected = no_checkout / "xdg-cache" / paths.CACHE_NAME / "data"
    assert paths.data_cache() == data.cache_dir() == expected
    spec = data.REGISTRY["mnist"].files[0]
    with pytest.raises(data.DatasetError, match="downloads are disabled") as error:
        data.locate(spec)
    assert str(expected / spec.relpath) in str(error.value)  # looked there, and says so
    expected.joinpath(spec.relpath).parent.mkdir(parents=True)
    expected.joinpath(spec.relpath).write_bytes(b"x")
    row = data.check_all()[0]  # found there, but damaged: the row says why
    assert row["file"] == spec.name and "is truncated" in row["status"]
    assert data._local_copies(spec)[1][0] == "user cache"


def test_course_cache_dir_wins_even_without_a_checkout(no_checkout):
    assert data.cache_dir() == no_checkout / "cache"  # set by tests/conftest.py


def test_the_checkout_is_found_from_the_current_directory(no_checkout, monkeypatch):
    monkeypatch.chdir(ROOT / "notebooks")
    assert paths.find_checkout() == ROOT
    assert paths.data_cache() == ROOT / "data"


@pytest.mark.parametrize("platform,expected", [
    ("darwin", "Library/Caches/model-optimization-course"),
    ("win32", "AppData/Local/model-optimization-course/Cache"),
])
def test_per_user_cache_follows_the_platform(monkeypatch, tmp_path, platform, expected):
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    monkeypatch.delenv("LOCALAPPDATA", raising=False)
    assert paths.user_cache_dir() == tmp_path / expected


def test_what_needs_the_checkout_says_so_and_what_to_do(no_checkout):
    with pytest.raises(paths.CheckoutNotFoundError) as error:
        environment.lock_mismatches()
    message = str(error.value)
    assert "lock_mismatches() without a lock path needs requirements.txt" in message
    assert str(no_checkout / "site-packages") in message and "outside any checkout" in message
    assert "Fix: work in the checkout" in message and f"set {paths.ROOT_ENV}=" in message
    lock = no_checkout / "requirements.txt"  # an explicit lock still works
    lock.write_text(f"packaging=={metadata.version('packaging')} \\\n    --hash=sha256:00\n")
    assert environment.lock_mismatches(lock) == []


def test_a_checkout_missing_a_needed_directory_is_named(tmp_path, monkeypatch):
    fake = tmp_path / "course"
    for name in ("course_lib", "notebooks"):
        (fake / name).mkdir(parents=True)
    (fake / "pyproject.toml").write_text("")
    monkeypatch.setenv(paths.ROOT_ENV, str(fake))
    with pytest.raises(paths.CheckoutNotFoundError,
                       match=r"course_tools needs regression/ in the course's checkout"):
        paths.require_checkout("notebooks/", "regression/", user="course_tools")
    assert paths.require_checkout("notebooks/", user="x") == fake


def test_course_tools_exits_with_the_message_when_run_without_a_checkout(no_checkout):
    import subprocess

    # A copy of the two packages outside any checkout, as a non-editable install has them.
    site = no_checkout / "site-packages"
    for package in ("course_lib", "course_tools"):
        for source in (ROOT / package).rglob("*.py"):
            target = site / source.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    run = subprocess.run([sys.executable, "-m", "course_tools", "run"], cwd=no_checkout,
                         env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin",
                              "HOME": str(no_checkout)},
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.startswith("error: course_tools needs notebooks/ and regression/ from the "
                                 "course's git checkout")
