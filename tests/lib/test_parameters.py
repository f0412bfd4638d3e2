"""check_param: the right kinds and ranges pass; anything else fails naming the parameter."""

import math

import numpy as np
import pytest

from course_lib.parameters import ParameterError, check_param


@pytest.mark.parametrize("value,kind,bounds", [
    (3, int, {"ge": 1, "le": 3}),
    (np.int64(5), int, {"gt": 0}),
    (0.5, float, {"gt": 0, "lt": 1}),
    (2, float, {"ge": 2}),
    (True, bool, {}),
    ("adam", str, {"choices": {"adam", "sgd"}}),
])
def test_valid_values_pass(value, kind, bounds):
    check_param("P", value, kind, **bounds)


@pytest.mark.parametrize("value,kind,bounds,message", [
    ("3", int, {}, "parameter EPOCHS must be an int; got str '3'"),
    (2.0, int, {}, "must be an int; got float"),
    (True, int, {}, "must be an int; got bool"),
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


def test_parameter_error_is_a_value_error():
    assert issubclass(ParameterError, ValueError)


def test_unsupported_kind_is_a_programming_error():
    with pytest.raises(TypeError):
        check_param("P", [1], list)
