"""check_param: the right kinds and ranges pass; anything else fails naming the parameter."""

import math

import numpy as np
import pytest

from course_lib.parameters import ParameterError, check_param, check_param_list


@pytest.mark.parametrize("value,kind,bounds", [
    (3, int, {"ge": 1, "le": 3}),
    (np.int64(5), int, {"gt": 0}),
    (np.float32(0.5), float, {"ge": 0, "lt": 1}),
    (0.5, float, {"gt": 0, "lt": 1}),
    (2, float, {"ge": 2}),
    (True, bool, {}),
    ("adam", str, {"choices": {"adam", "sgd"}}),
])
def test_valid_values_pass(value, kind, bounds):
    assert check_param("P", value, kind, **bounds) is None  # a validation cell shows nothing


@pytest.mark.parametrize("value,kind,bounds,message", [
    ("3", int, {}, "parameter EPOCHS must be an int; got str '3'"),
    (2.0, int, {}, "must be an int; got float"),
    (True, int, {}, "must be an int; got bool"),
    (np.True_, float, {}, "must be a number; got bool"),
    (1, bool, {}, "must be True or False"),
    (math.nan, float, {}, "must be a number; got float nan"),
    (0, int, {"ge": 1}, r"out of range: need 1 ≤ EPOCHS; got 0"),
    (0.0, float, {"gt": 0, "le": 1}, r"need 0 < EPOCHS ≤ 1; got 0.0"),
    (1, float, {"gt": 0, "lt": 1}, r"need 0 < EPOCHS < 1; got 1"),
    ("adamw", str, {"choices": {"adam", "sgd"}}, r"must be one of \['adam', 'sgd'\]"),
])
def test_invalid_values_fail_with_the_parameter_name(value, kind, bounds, message):
    with pytest.raises(ParameterError, match=message):
        check_param("EPOCHS", value, kind, **bounds)


def test_check_param_list_checks_every_item():
    assert check_param_list("UNITS", (3, np.int64(4)), int, ge=1) == [3, 4]
    assert check_param_list("FILTERS", [4, 8], int, length=2, ge=1) == [4, 8]
    with pytest.raises(ParameterError, match=r"parameter UNITS must be a non-empty list \(each an "
                       r"int\); got list \[\]"):
        check_param_list("UNITS", [], int)
    with pytest.raises(ParameterError, match="must be a non-empty list"):
        check_param_list("UNITS", "12", int)
    with pytest.raises(ParameterError, match=r"must be a list of 2 \(each an int\); got tuple"):
        check_param_list("FILTERS", (4, 8, 16), int, length=2)
    with pytest.raises(ParameterError, match=r"need 1 ≤ UNITS\[1\]; got 0"):
        check_param_list("UNITS", [3, 0], int, ge=1)
    with pytest.raises(ParameterError, match=r"parameter UNITS\[0\] must be an int; got float"):
        check_param_list("UNITS", [3.0], int)


def test_parameter_error_is_a_value_error():
    assert issubclass(ParameterError, ValueError)


def test_unsupported_kind_is_a_programming_error():
    with pytest.raises(TypeError):
        check_param("P", [1], list)
