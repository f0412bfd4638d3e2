"""Tested helpers for the course *Model Optimization: Principles and Practice*.

Notebooks import it once, as ``import course_lib as cl``. Importing it is cheap (no TensorFlow)
so that a notebook can validate its parameters before the slow imports.
"""

from . import data
from .metrics import record
from .params import ParameterError, check_param
from .runtime import environment_report, setup

__all__ = ["ParameterError", "check_param", "data", "environment_report", "record", "setup"]
