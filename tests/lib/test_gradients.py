"""Known-answer tests for course_lib.gradients (numerical_gradient, relative_error)."""

import numpy as np
import pytest

from course_lib import ParameterError, numerical_gradient, relative_error


def test_gradient_of_sum_of_squares_is_two_x():
    x = np.array([1.5, -2.0, 0.0, 3.25])
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(v**2), x), 2 * x,
                               rtol=0, atol=1e-8)


def test_gradient_of_linear_form_is_its_coefficients():
    c = np.array([0.5, -3.0, 2.0])
    grad = numerical_gradient(lambda v: c @ v + 7.0, np.array([10.0, -4.0, 0.25]))
    np.testing.assert_allclose(grad, c, rtol=0, atol=1e-8)


def test_matrix_input_keeps_its_shape_and_is_not_modified():
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    x = np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]])
    before = x.copy()
    grad = numerical_gradient(lambda m: np.sum(a * m**2), x)  # d/dm = 2 a m
    assert grad.shape == (2, 3) and grad.dtype == np.float64
    np.testing.assert_allclose(grad, 2 * a * x, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_scalar_and_float32_inputs_are_evaluated_in_float64():
    seen = []

    def f(v):
        seen.append(v.dtype)
        return float(np.sin(v))

    grad = numerical_gradient(f, np.float32(0.5))
    assert grad.shape == () and set(seen) == {np.dtype(np.float64)}
    assert abs(float(grad) - np.cos(0.5)) < 1e-8


def test_central_differences_have_second_order_error():
    # For exp at 0 the central-difference error is about eps**2 / 6 (round-off aside).
    err = abs(float(numerical_gradient(lambda v: float(np.exp(v)), np.array(0.0), eps=1e-3)) - 1)
    assert 1e-7 < err < 2e-7


def test_relative_error_known_values():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1.0, 2.0], [1.0, 3.0]) == pytest.approx(1 / 5)  # max|a-b|=1, max=5
    assert relative_error([1.0, -2.0], [-1.0, 2.0]) == pytest.approx(1.0)  # b == -a
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0  # no 0 / 0
    assert relative_error(1e-300, 2e-300) == pytest.approx(1 / 3)  # scale-free
    assert relative_error([[1.0, 0.0]], [[1.0, 1e-12]]) == pytest.approx(1e-12)


def test_relative_error_is_symmetric():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    assert relative_error(a, b) == relative_error(b, a)


@pytest.mark.parametrize("bad", [np.array([1, 2, 3]), np.array([True]), [1, 2], "abc",
                                 np.array([], dtype=np.float64), np.zeros((0, 3))])
def test_numerical_gradient_rejects_non_float_or_empty_input(bad):
    with pytest.raises(ValueError, match="x must be a (float|non-empty) array; got (dtype|shape)"):
        numerical_gradient(lambda v: 0.0, bad)


@pytest.mark.parametrize("eps, message", [
    (0.0, "need 0 < eps; got 0.0"), (-1e-6, "need 0 < eps"),
    (float("nan"), "parameter eps must be a number; got float nan"),
    (float("inf"), "parameter eps must be a number; got float inf"),
])
def test_numerical_gradient_rejects_bad_eps(eps, message):
    with pytest.raises(ParameterError, match=message):
        numerical_gradient(lambda v: 0.0, np.ones(2), eps=eps)


@pytest.mark.parametrize("f", [lambda v: v, lambda v: float("nan"), lambda v: "x"])
def test_numerical_gradient_rejects_non_scalar_function(f):
    with pytest.raises(ValueError, match="one finite number"):
        numerical_gradient(f, np.ones(2))


def test_relative_error_rejects_mismatched_or_empty():
    with pytest.raises(ValueError, match=r"a and b must have one shape; got shapes \(3,\) and "
                       r"\(3, 1\)"):
        relative_error(np.ones(3), np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"a and b must be non-empty; got shape \(0,\)"):
        relative_error([], [])
