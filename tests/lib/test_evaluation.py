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


def test_confusion_matrix_known_answer_and_sklearn():
    from sklearn.metrics import confusion_matrix as sk_confusion

    labels, predictions = [0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2]
    matrix = evaluation.confusion_matrix(labels, predictions, 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 4, 500), rng.integers(0, 4, 500)
    assert np.array_equal(evaluation.confusion_matrix(y, p, 4), sk_confusion(y, p))


def test_metrics_from_confusion_known_answer():
    # Binary: TP = 8, FP = 2, FN = 4, TN = 86 (positive class 1).
    result = evaluation.metrics_from_confusion(np.array([[86, 2], [4, 8]]))
    assert result.precision[1] == pytest.approx(0.8) and result.recall[1] == pytest.approx(2 / 3)
    assert result.f1[1] == pytest.approx(2 * 0.8 * (2 / 3) / (0.8 + 2 / 3), rel=1e-12)
    assert result.support.tolist() == [88, 12]
    assert result.averages["micro"] == pytest.approx((0.94, 0.94, 0.94))  # = accuracy


def test_metrics_from_confusion_match_sklearn():
    from sklearn.metrics import precision_recall_fscore_support

    rng = np.random.default_rng(1)
    y = rng.integers(0, 5, 1000)
    p = np.where(rng.random(1000) < 0.6, y, rng.integers(0, 5, 1000))
    p[p == 4] = 3  # class 4 is never predicted: zero-division handled as scikit-learn's 0
    result = evaluation.metrics_from_confusion(evaluation.confusion_matrix(y, p, 5))
    reference = precision_recall_fscore_support(y, p, labels=range(5), zero_division=0)
    for ours, theirs in zip([result.precision, result.recall, result.f1, result.support],
                            reference, strict=True):
        assert ours == pytest.approx(theirs, abs=1e-12)
    for average in ["macro", "micro", "weighted"]:
        theirs = precision_recall_fscore_support(y, p, labels=range(5), average=average,
                                                 zero_division=0)[:3]
        assert result.averages[average] == pytest.approx(theirs, abs=1e-12)


@pytest.mark.parametrize(("matrix", "message"), [
    (np.ones((2, 3), dtype=int), "square"),
    (np.array([[1, -1], [0, 2]]), "non-negative"),
    (np.array([[0.5, 1.0], [0.0, 2.0]]), "integer"),
])
def test_metrics_from_confusion_bad_inputs(matrix, message):
    with pytest.raises(ValueError, match=message):
        evaluation.metrics_from_confusion(matrix)


def test_confusion_matrix_bad_inputs():
    with pytest.raises(ValueError, match="integers in"):
        evaluation.confusion_matrix([0, 3], [0, 1], 3)
    with pytest.raises(ValueError, match="same"):
        evaluation.confusion_matrix([0, 1], [0], 3)
