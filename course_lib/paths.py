"""Where the course's files live, relative to this package (installed in editable mode)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
DATA_CACHE = PROJECT_ROOT / "data"
