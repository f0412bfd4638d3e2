"""Importing course_lib is cheap, and topic modules load on first use."""

import os
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


def test_import_quiets_tensorflow_cpp_logs_unless_the_user_chose_a_level():
    code = "import os, course_lib; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.stdout.strip() == "3"
    run = subprocess.run([sys.executable, "-c", code], env={**env, "TF_CPP_MIN_LOG_LEVEL": "1"},
                         capture_output=True, text=True)
    assert run.stdout.strip() == "1"
