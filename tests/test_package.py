"""Importing course_lib is cheap, and topic modules load on first use."""

import subprocess
import sys

import pytest

import course_lib as cl


def test_import_does_not_load_tensorflow():
    code = "import sys, course_lib; sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_submodules_load_on_first_use():
    assert cl.data.load is not None and cl.paths.NOTEBOOKS_DIR.name == "notebooks"


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'no_such_module'"):
        cl.no_such_module  # noqa: B018
