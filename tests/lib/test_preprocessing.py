"""Known-answer tests for course_lib.preprocessing (notebook 04's measuring tools)."""

import math

import numpy as np
import pytest

from course_lib import preprocessing as pp


# ---------------------------------------------------------------- missing_runs
@pytest.mark.parametrize("mask, runs", [
    ([False, True, True, False, True], [2, 1]),
    ([True, True, True], [3]),
    ([False, False], []),
    ([True, False, False, True, True, True, False], [1, 3]),
])
def test_missing_runs_known_answers(mask, runs):
    assert pp.missing_runs(np.array(mask)).tolist() == runs


def test_missing_runs_rejects_non_boolean_and_2d_masks():
    with pytest.raises(ValueError, match=r"1-D boolean array; got dtype int64 and shape \(3,\)"):
        pp.missing_runs(np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="1-D boolean"):
        pp.missing_runs(np.zeros((2, 2), dtype=bool))


# ---------------------------------------------------------------- robust_zscores
def test_robust_zscores_known_answer():
    # median 3, absolute deviations [2, 1, 0, 1, 97] -> MAD 1
    z = pp.robust_zscores(np.array([1.0, 2.0, 3.0, 4.0, 100.0]))
    np.testing.assert_allclose(z, 0.6745 * np.array([-2.0, -1.0, 0.0, 1.0, 97.0]))


def test_robust_zscores_are_not_fooled_by_the_outlier_itself():
    values = np.array([10.0, 11.0, 9.0, 10.0, 10.5, 9.5, 1000.0])
    z = pp.robust_zscores(values)
    ordinary = (values - values.mean()) / values.std()
    assert abs(z[-1]) > 100 and abs(ordinary[-1]) < 3  # the outlier inflates the std, not the MAD


def test_robust_zscores_match_normal_scale_on_a_large_normal_sample():
    values = np.random.default_rng(0).normal(5.0, 2.0, 100_000)
    ordinary = (values - values.mean()) / values.std()
    assert np.abs(pp.robust_zscores(values) - ordinary).max() < 0.05


@pytest.mark.parametrize("values, message", [
    ([1.0, np.nan, 2.0], "NaN"),
    ([1.0, 1.0, 1.0, 2.0], "median absolute deviation is 0"),
    ([[1.0, 2.0], [3.0, 4.0]], "1-D"),
    ([], "non-empty"),
])
def test_robust_zscores_errors(values, message):
    with pytest.raises(ValueError, match=message):
        pp.robust_zscores(np.array(values))


# ---------------------------------------------------------------- gd_iterations
def test_gd_converges_in_one_step_when_the_gram_matrix_is_the_identity():
    n = 4
    X = np.sqrt(n) * np.eye(n)  # XᵀX/n = I: H = 2I, the step 1/λ_max = 1/2 lands on θ* at once
    run = pp.gd_iterations(X, np.array([1.0, -2.0, 3.0, 0.5]), tol=1e-12)
    assert run.iterations == 1
    assert run.learning_rate == pytest.approx(0.5)
    assert run.condition_number == pytest.approx(1.0)


def test_gd_iterations_known_answer_for_two_scales():
    # XᵀX/n = diag(1, 100), θ* = (1, 1). Step 1/200: the steep direction is solved in one
    # step, the flat one contracts by 0.99 per step, so gap_k = 0.99^(2k) / 101.
    n = 2
    X = np.sqrt(n) * np.diag([1.0, 10.0])
    y = X @ np.array([1.0, 1.0])
    tol = 1e-3
    run = pp.gd_iterations(X, y, tol=tol, max_iters=1000)
    assert run.iterations == math.ceil(math.log(tol * 101) / (2 * math.log(0.99)))
    assert run.condition_number == pytest.approx(100.0)
    np.testing.assert_allclose(run.gaps[1:4], 0.99 ** (2 * np.arange(1, 4)) / 101)
    assert len(run.gaps) == run.iterations + 1


def test_gd_iterations_reports_none_when_out_of_steps():
    X = np.sqrt(2) * np.diag([1.0, 10.0])
    run = pp.gd_iterations(X, X @ np.ones(2), tol=1e-9, max_iters=5)
    assert run.iterations is None
    assert len(run.gaps) == 6 and run.gaps[-1] > 1e-9


@pytest.mark.parametrize("X, y, kwargs, message", [
    (np.ones(3), np.ones(3), {}, r"X must have shape \(n, d\) .*; got shapes \(3,\) and \(3,\)"),
    (np.ones((3, 2)), np.ones(4), {}, r"got shapes \(3, 2\) and \(4,\)"),
    (np.eye(2), np.ones(2), {"tol": 0.0}, "parameter tol is out of range: need 0 < tol < 1"),
    (np.eye(2), np.ones(2), {"max_iters": 0}, "need 1 ≤ max_iters; got 0"),
    (np.eye(2), np.ones(2), {"max_iters": 10.0}, "parameter max_iters must be an int"),
    (np.eye(2), np.zeros(2), {}, "already optimal"),
])
def test_gd_iterations_errors(X, y, kwargs, message):
    with pytest.raises(ValueError, match=message):
        pp.gd_iterations(X, y, **kwargs)
