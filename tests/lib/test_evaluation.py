"""Paired comparisons (course_lib.evaluation) against known answers and SciPy."""

import numpy as np
import pytest
from scipy import stats

from course_lib import evaluation
from course_lib.parameters import ParameterError


def _pairs(both: int, only_a: int, only_b: int, neither: int):
    a = [True] * both + [True] * only_a + [False] * only_b + [False] * neither
    b = [True] * both + [False] * only_a + [True] * only_b + [False] * neither
    return np.array(a), np.array(b)


def test_mcnemar_counts_only_the_disagreements():
    a, b = _pairs(both=900, only_a=12, only_b=3, neither=85)
    only_a, only_b, p = evaluation.mcnemar_exact(a, b)
    assert (only_a, only_b) == (12, 3)
    # Known answer: 2 * P(X <= 3), X ~ Binomial(15, 1/2) = 2 * 576 / 32768.
    assert p == pytest.approx(2 * 576 / 32768, rel=1e-12)
    # The examples both get right or both get wrong do not change the test.
    assert evaluation.mcnemar_exact(*_pairs(5, 12, 3, 0))[2] == pytest.approx(p, rel=1e-12)


def test_mcnemar_is_symmetric_and_one_without_disagreement():
    a, b = _pairs(50, 7, 2, 10)
    assert evaluation.mcnemar_exact(a, b)[2] == pytest.approx(evaluation.mcnemar_exact(b, a)[2])
    assert evaluation.mcnemar_exact(a, a) == (0, 0, 1.0)


def test_bootstrap_interval_brackets_the_difference_and_matches_scipy():
    rng = np.random.default_rng(0)
    a = rng.random(2000) < 0.9
    b = np.where(rng.random(2000) < 0.1, ~a, a)
    low, high = evaluation.paired_bootstrap_interval(a, b, seed=3)
    assert low <= a.mean() - b.mean() <= high
    reference = stats.bootstrap((a.astype(float) - b,), np.mean, n_resamples=2000,
                                method="percentile", rng=np.random.default_rng(3))
    assert (low, high) == pytest.approx((reference.confidence_interval.low,
                                         reference.confidence_interval.high))


def test_bootstrap_interval_of_identical_models_is_zero():
    a = np.array([1, 0, 1, 1], dtype=bool)
    assert evaluation.paired_bootstrap_interval(a, a) == (0.0, 0.0)


def test_compare_paired_reports_both_tests():
    a, b = _pairs(900, 30, 5, 65)
    result = evaluation.compare_paired(a, b)
    assert result.n == 1000 and result.only_a == 30 and result.only_b == 5
    assert result.difference == pytest.approx(0.025)
    assert result.significant() and result.interval[0] > 0
    assert "McNemar exact p" in str(result)


@pytest.mark.parametrize(("a", "b", "message"), [
    (np.ones((2, 3)), np.ones((2, 3)), "1-D"),
    ([], [], "non-empty"),
    ([0, 2, 1], [0, 1, 1], "booleans or 0/1"),
    ([1, 0, 1], [1, 0], "same test examples"),
])
def test_bad_inputs_fail_clearly(a, b, message):
    with pytest.raises(ValueError, match=message):
        evaluation.compare_paired(a, b)


def test_bad_confidence_is_refused():
    with pytest.raises(ParameterError, match="confidence"):
        evaluation.paired_bootstrap_interval([1, 0], [0, 1], confidence=1.0)
