"""Showing old code failing (course_lib.legacy): the error is printed, success is a failure."""

import pytest

from course_lib import legacy


def test_expect_failure_prints_the_error(capsys):
    with legacy.expect_failure(AttributeError):
        object().no_such_method()
    assert capsys.readouterr().out == (
        "AttributeError: 'object' object has no attribute 'no_such_method'\n")


def test_expect_failure_fails_when_the_old_code_works():
    with pytest.raises(AssertionError, match="ran without error"):
        with legacy.expect_failure(AttributeError):
            pass


def test_expect_failure_lets_an_unexpected_error_through():
    with pytest.raises(KeyError):
        with legacy.expect_failure(AttributeError):
            raise KeyError("x")


def test_messages_are_cut_and_addresses_masked(capsys):
    with legacy.expect_failure(ValueError, max_lines=2):
        raise ValueError("one at 0x7f3a2b1c9d80\n\ntwo\nthree")
    assert capsys.readouterr().out == "ValueError: one at 0x...\ntwo\n...\n"


def test_install_paths_are_cut_to_the_package(capsys):
    with legacy.expect_failure(ImportError):
        raise ImportError("cannot import name 'x' (/work/.venv/lib/python3.11/site-packages/"
                          "keras/api/preprocessing/image/__init__.py)")
    assert capsys.readouterr().out == (
        "ImportError: cannot import name 'x' (keras/api/preprocessing/image/__init__.py)\n")


def test_fresh_python_reports_the_last_error(capsys):
    error = legacy.fails_in_fresh_python("import json\njson.loads('{')", "JSONDecodeError")
    assert error.startswith("JSONDecodeError: Expecting property name")
    assert capsys.readouterr().out == error + "\n"


def test_fresh_python_fails_on_success_or_another_error():
    with pytest.raises(AssertionError, match="without error"):
        legacy.fails_in_fresh_python("print(1)", "ValueError")
    with pytest.raises(AssertionError, match="expected ValueError.*KeyError"):
        legacy.fails_in_fresh_python("{}['x']", "ValueError")
