"""Validate notebook parameters right after the ``parameters`` cell.

Introduced in notebook 00; every notebook calls :func:`check_param` once per parameter so that a
wrong value given through papermill (or typed by a learner) fails within seconds with a message
naming the parameter, instead of minutes later with a confusing traceback. The helpers of
``course_lib`` validate their own arguments with the same two functions, so every bad argument
raises :class:`ParameterError` worded "parameter NAME must be …; got …" (or "is out of range:
need …; got …").
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Sequence
from typing import Any


class ParameterError(ValueError):
    """A notebook parameter has the wrong type or is out of its allowed range."""


_KINDS = {int: "an int", float: "a number", bool: "True or False", str: "a string"}


def _is_kind(value: Any, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind is int:
        return isinstance(value, numbers.Integral)
    if kind is float:
        return isinstance(value, numbers.Real) and math.isfinite(value)
    return isinstance(value, kind)


def _bounds_text(name: str, gt, ge, lt, le) -> str:
    low = f"{gt} < " if gt is not None else f"{ge} ≤ " if ge is not None else ""
    high = f" < {lt}" if lt is not None else f" ≤ {le}" if le is not None else ""
    return f"{low}{name}{high}"


def check_param(name: str, value: Any, kind: type, *, gt=None, ge=None, lt=None, le=None,
                choices: Collection | None = None) -> None:
    """Raise :class:`ParameterError` unless ``value`` is a ``kind`` within the given bounds.
    It returns nothing, so that a notebook's validation cell shows no output.

    ``kind`` is int, float (ints are accepted), bool or str; ``gt``/``ge``/``lt``/``le`` are
    exclusive/inclusive bounds, ``choices`` the allowed values. NumPy scalars count as ints and
    floats (``np.int64(3)``, ``np.float32(0.5)``), bools (Python or NumPy) are never accepted as
    numbers, and NaN or infinity never as a float. Notebooks call it on their parameters, and
    the helpers of ``course_lib`` on their arguments, e.g.
    ``check_param("momentum", momentum, float, ge=0, lt=1)``.
    """
    if kind not in _KINDS:
        raise TypeError(f"check_param supports kinds {list(_KINDS)}, not {kind!r}")
    if not _is_kind(value, kind):
        raise ParameterError(
            f"parameter {name} must be {_KINDS[kind]}; got {type(value).__name__} {value!r}")
    if choices is not None and value not in choices:
        raise ParameterError(
            f"parameter {name} must be one of {sorted(choices)}; got {value!r}")
    out_of_range = ((gt is not None and not value > gt) or (ge is not None and not value >= ge)
                    or (lt is not None and not value < lt) or (le is not None and not value <= le))
    if out_of_range:
        raise ParameterError(
            f"parameter {name} is out of range: need {_bounds_text(name, gt, ge, lt, le)}; "
            f"got {value!r}")


def check_param_list(name: str, values: Any, kind: type, *, length: int | None = None,
                     **bounds) -> list:
    """Return ``values`` as a list; raise :class:`ParameterError` unless it is a non-empty
    sequence such as a list or tuple (of exactly ``length`` items if given) whose every item passes
    :func:`check_param` with ``kind`` and ``bounds`` (the item named ``NAME[i]``), e.g.
    ``check_param_list("hidden_units", hidden_units, int, ge=1)``.
    """
    if kind not in _KINDS:
        raise TypeError(f"check_param_list supports kinds {list(_KINDS)}, not {kind!r}")
    what = f"a list of {length}" if length is not None else "a non-empty list"
    if (isinstance(values, str) or not isinstance(values, Sequence) or not values
            or (length is not None and len(values) != length)):
        raise ParameterError(f"parameter {name} must be {what} (each {_KINDS[kind]}); "
                             f"got {type(values).__name__} {values!r}")
    for i, value in enumerate(values):
        check_param(f"{name}[{i}]", value, kind, **bounds)
    return list(values)
