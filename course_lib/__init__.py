"""Tested helpers for the course *Model Optimization: Principles and Practice*.

Notebooks import it once, as ``import course_lib as cl``. Importing it is cheap (no TensorFlow),
so that a notebook can validate its parameters before the slow imports. Topic modules
(``cl.data``, ``cl.gradients``, ...) are imported on first use, so one that needs TensorFlow
costs nothing until a notebook touches it.
"""

import importlib
import importlib.util
import os

# TensorFlow's C++ runtime logs to stderr at unpredictable moments (e.g. an
# "E0000 ... use_unbounded_threadpool" line when fit() gets NumPy arrays under op determinism),
# which would make saved notebook outputs differ from run to run. Every notebook imports
# course_lib before TensorFlow, so this quiets them (errors still raise Python exceptions);
# a value the user set is respected.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from .environment import environment_report, lock_mismatches, setup
from .gradients import numerical_gradient, relative_error
from .parameters import ParameterError, check_param, check_param_list
from .results import record

__all__ = ["ParameterError", "check_param", "check_param_list", "environment_report",
           "lock_mismatches", "numerical_gradient", "record", "relative_error", "setup"]


def __getattr__(name: str):
    """Import the submodule ``course_lib.<name>`` the first time ``cl.<name>`` is used."""
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
