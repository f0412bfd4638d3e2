"""Record a notebook's key metrics so that the course runner can collect them.

Introduced in notebook 00; every notebook records its key results with :func:`record`.

A recorded metric is displayed as an output of the cell that records it, in two forms: a short
text line for the reader, and a machine-readable payload (MIME type :data:`MIME_TYPE`) that
``python -m course_tools run`` reads back from the executed notebook. Nothing is written to disk,
so recording is harmless in JupyterLab and needs no configuration.
"""

from __future__ import annotations

import math
import numbers
import re

MIME_TYPE = "application/vnd.course-lib.metric+json"
_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


def record(name: str, value: float) -> None:
    """Record metric ``name`` (e.g. ``"cnn.test_accuracy"``) with a finite numeric ``value``.

    Raises TypeError for a non-number (bools included: record
    ``int(flag)`` to mean 1 or 0) and ValueError for NaN, infinity or a malformed name.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"metric name {name!r} must be lower-case words joined by dots, "
            "e.g. 'cnn.test_accuracy'")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"metric {name!r} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"metric {name!r} must be finite, got {value}")
    _display({MIME_TYPE: {"name": name, "value": value},
              "text/plain": f"recorded {name} = {value:.6g}"})


def _display(bundle: dict) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python without IPython: the text line is enough
        print(bundle["text/plain"])
        return
    if get_ipython() is None:
        print(bundle["text/plain"])
    else:
        display(bundle, raw=True)


def metrics_in(notebook: dict) -> dict[str, float]:
    """All metrics recorded in an executed notebook (a dict as read by ``nbformat``/json)."""
    found = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(MIME_TYPE)
            if payload is not None:
                found[payload["name"]] = float(payload["value"])
    return found
