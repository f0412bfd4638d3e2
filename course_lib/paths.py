"""Where the course's files live: its checkout, the notebooks and the data cache.

The course is used from its git checkout, into which ``make`` installs course_lib in editable
mode; then everything is relative to the checkout. course_lib also works installed as an
ordinary package (``pip install .`` into site-packages, with no checkout around it): the data
cache then moves to a per-user cache directory, and whatever truly needs the checkout (the lock
``requirements.txt``, the notebooks, the regression profiles) raises
:class:`CheckoutNotFoundError`, which says what is missing and what to do.

The checkout is the first of: ``$COURSE_ROOT``; the directory that holds this package (an
editable install, or Python started in the checkout); the current directory or one of its
parents.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT_ENV = "COURSE_ROOT"
# The per-user cache directory's name (under ~/.cache, ~/Library/Caches or %LOCALAPPDATA%).
CACHE_NAME = "model-optimization-course"
# What a directory must hold to be the course's checkout.
CHECKOUT_MARKERS = ("pyproject.toml", "course_lib", "notebooks")

PACKAGE_DIR = Path(__file__).resolve().parent


class CheckoutNotFoundError(RuntimeError):
    """Something needs the course's checkout, and none was found."""


def is_checkout(path: Path) -> bool:
    """Whether ``path`` is the root of the course's checkout."""
    return all((path / marker).exists() for marker in CHECKOUT_MARKERS)


def _candidates() -> list[tuple[str, list[Path]]]:
    """Where the checkout may be, labelled, in lookup order."""
    places = []
    value = os.environ.get(ROOT_ENV)
    if value:
        places.append((f"${ROOT_ENV}", [Path(value).expanduser().resolve()]))
    places.append(("the directory holding course_lib", [PACKAGE_DIR.parent]))
    cwd = Path.cwd().resolve()
    places.append(("the current directory and its parents", [cwd, *cwd.parents]))
    return places


def find_checkout() -> Path | None:
    """The course's checkout (see the module docstring), or None when there is none."""
    for _, paths in _candidates():
        for path in paths:
            if is_checkout(path):
                return path
    return None


def _listing(names) -> str:
    names = list(names)
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def require_checkout(*needed: str, user: str) -> Path:
    """The checkout's root, which must hold each of ``needed`` (relative paths).

    Raises :class:`CheckoutNotFoundError` naming ``user`` (what needs it), what is missing and
    what to do.
    """
    root = find_checkout()
    if root is not None:
        missing = [name for name in needed if not (root / name).exists()]
        if not missing:
            return root
        raise CheckoutNotFoundError(
            f"{user} needs {_listing(missing)} in the course's checkout {root}, which lacks "
            f"it: restore it from git (git checkout -- {' '.join(missing)}).")
    looked = "; ".join(f"{label} ({', '.join(str(p) for p in paths[:1])})"
                       for label, paths in _candidates())
    raise CheckoutNotFoundError(
        f"{user} needs {_listing(needed) or 'files'} from the course's git checkout, but "
        f"course_lib is installed at {PACKAGE_DIR}, outside any checkout, and none was found "
        f"(a directory with {_listing(CHECKOUT_MARKERS)}; looked at: {looked}). "
        f"Fix: work in the checkout (cd into it; `make` installs course_lib from it in editable "
        f"mode), or set {ROOT_ENV}=/path/to/the/checkout.")


def user_cache_dir() -> Path:
    """The per-user cache directory of the course (the platform's convention)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
        return Path(base) / CACHE_NAME / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / CACHE_NAME
    base = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(base) if os.path.isabs(base) else Path.home() / ".cache") / CACHE_NAME


def data_cache() -> Path:
    """The default dataset cache: the checkout's ``data/`` (git-ignored) when there is a
    checkout, else ``data/`` in the per-user cache directory. ``COURSE_CACHE_DIR`` overrides
    both (see :func:`course_lib.data.cache_dir`)."""
    root = find_checkout()
    return root / "data" if root is not None else user_cache_dir() / "data"


# Fixed at import. Without a checkout they point next to the installed package, where nothing
# is: code that needs them checks with require_checkout() first (course_tools does on import).
CHECKOUT = find_checkout()
PROJECT_ROOT = CHECKOUT if CHECKOUT is not None else PACKAGE_DIR.parent
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
DATA_CACHE = PROJECT_ROOT / "data" if CHECKOUT is not None else user_cache_dir() / "data"
