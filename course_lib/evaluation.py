"""Comparing two models honestly: paired tests on the same test examples.

Introduced in notebook 03 (is dropout's gain real?); used by every notebook that says one model
beats another (08, 09, 10), and taught in full in notebook 07 (with confusion-matrix metrics).

Two models scored on the *same* test set are paired: most examples are right (or wrong) for
both, and only the examples on which they disagree carry information about which is better. Two
independent confidence intervals, one per accuracy, ignore that pairing and are far too wide
(or, read the other way round, a gap inside one accuracy's standard error may still be
significant). The paired tools are:

- **McNemar's exact test**: under "both models are equally good", each disagreement is a fair
  coin flip, so the number won by model A among the ``only_a + only_b`` disagreements is
  Binomial(``only_a + only_b``, 1/2) (SciPy's ``binomtest``, two-sided);
- **a paired bootstrap interval** for the accuracy difference: resample test examples (the
  same ones for both models) and take the percentiles of the difference (SciPy's ``bootstrap``
  on the per-example differences).

Both answer "on this test set, could the gap be luck of which examples were drawn?". They say
nothing about the luck of the training run (initialisation, data order): for that, repeat over
several seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .parameters import check_param


def _as_correct(name: str, values) -> np.ndarray:
    """``values`` as a 1-D bool array (one entry per test example: right or wrong)."""
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array with one entry per test example "
                         f"(True where the model is right), not shape {array.shape}")
    if array.dtype != bool and not np.isin(array, (0, 1)).all():
        raise ValueError(f"{name} must hold booleans or 0/1 (right or wrong per example)")
    return array.astype(bool)


def _pair(correct_a, correct_b) -> tuple[np.ndarray, np.ndarray]:
    a, b = _as_correct("correct_a", correct_a), _as_correct("correct_b", correct_b)
    if a.shape != b.shape:
        raise ValueError(f"correct_a and correct_b must score the same test examples: "
                         f"{a.size} and {b.size} entries")
    return a, b


def mcnemar_exact(correct_a, correct_b) -> tuple[int, int, float]:
    """McNemar's exact two-sided test: ``(only_a, only_b, p_value)``.

    ``only_a`` counts the examples model A gets right and B wrong; ``only_b`` the reverse. With
    no disagreement at all the p-value is 1.
    """
    a, b = _pair(correct_a, correct_b)
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    if only_a + only_b == 0:
        return only_a, only_b, 1.0
    return only_a, only_b, float(stats.binomtest(only_a, only_a + only_b, 0.5).pvalue)


def paired_bootstrap_interval(correct_a, correct_b, *, confidence: float = 0.95,
                              n_resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``accuracy(A) - accuracy(B)``, resampling examples."""
    check_param("confidence", confidence, float, ge=0.5, lt=1.0)
    check_param("n_resamples", n_resamples, int, ge=100)
    a, b = _pair(correct_a, correct_b)
    differences = a.astype(np.float64) - b.astype(np.float64)
    if not differences.any():
        return 0.0, 0.0
    result = stats.bootstrap((differences,), np.mean, confidence_level=confidence,
                             n_resamples=n_resamples, method="percentile",
                             rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


@dataclass(frozen=True)
class PairedComparison:
    """Two models scored on the same examples: accuracies, disagreements and both tests."""

    n: int
    accuracy_a: float
    accuracy_b: float
    only_a: int
    only_b: int
    p_value: float
    interval: tuple[float, float]
    confidence: float

    @property
    def difference(self) -> float:
        """``accuracy_a - accuracy_b``."""
        return self.accuracy_a - self.accuracy_b

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether McNemar's test rejects "equally good" at level ``alpha``."""
        return self.p_value < alpha

    def __str__(self) -> str:
        low, high = self.interval
        return (f"accuracy A {self.accuracy_a:.4f} vs B {self.accuracy_b:.4f} on {self.n} "
                f"examples: difference {self.difference:+.4f}, {self.confidence:.0%} paired "
                f"bootstrap interval [{low:+.4f}, {high:+.4f}]; disagreements: A only "
                f"{self.only_a}, B only {self.only_b}; McNemar exact p = {self.p_value:.3g}")


def compare_paired(correct_a, correct_b, *, confidence: float = 0.95, n_resamples: int = 2000,
                   seed: int = 0) -> PairedComparison:
    """McNemar's exact test and a paired bootstrap interval for two models on the same examples.

    ``correct_a`` and ``correct_b`` hold, per test example, whether each model got it right
    (e.g. ``predictions == labels``).
    """
    a, b = _pair(correct_a, correct_b)
    only_a, only_b, p_value = mcnemar_exact(a, b)
    interval = paired_bootstrap_interval(a, b, confidence=confidence, n_resamples=n_resamples,
                                         seed=seed)
    return PairedComparison(int(a.size), float(a.mean()), float(b.mean()), only_a, only_b,
                            p_value, interval, confidence)


def confusion_matrix(labels, predictions, n_classes: int) -> np.ndarray:
    """Counts ``C[i, j]`` of examples of true class ``i`` predicted as class ``j`` (int64).

    Introduced in notebook 07. Rows are the true classes, columns the predictions, as in
    scikit-learn's ``confusion_matrix``; classes are the integers ``0 .. n_classes - 1``.
    """
    check_param("n_classes", n_classes, int, ge=2)
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.ndim != 1 or labels.shape != predictions.shape or labels.size == 0:
        raise ValueError(f"labels and predictions must be non-empty 1-D arrays of the same "
                         f"length, not shapes {labels.shape} and {predictions.shape}")
    for name, values in [("labels", labels), ("predictions", predictions)]:
        if not np.issubdtype(values.dtype, np.integer) or values.min() < 0 \
                or values.max() >= n_classes:
            raise ValueError(f"{name} must be integers in [0, {n_classes - 1}]")
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


@dataclass(frozen=True)
class ClassMetrics:
    """Precision, recall, F1 and support per class, with their macro/micro/weighted averages."""

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    averages: dict


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator``, 0 where the denominator is 0 (scikit-learn's
    ``zero_division=0``)."""
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator),
                     where=denominator > 0)


def metrics_from_confusion(matrix) -> ClassMetrics:
    """Per-class precision, recall and F1 from a confusion matrix, and their three averages.

    Introduced in notebook 07. For class ``k`` with true positives ``TP = C[k, k]``, false
    positives ``FP`` (column ``k`` minus TP) and false negatives ``FN`` (row ``k`` minus TP):
    precision ``TP / (TP + FP)``, recall ``TP / (TP + FN)``, F1 their harmonic mean
    ``2·TP / (2·TP + FP + FN)`` (0 where a denominator is 0). The averages are ``macro`` (plain
    mean over classes), ``weighted`` (mean weighted by support, the number of true examples of
    each class) and ``micro`` (pool TP, FP and FN over classes first; for single-label
    classification micro precision = micro recall = micro F1 = accuracy).
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 2:
        raise ValueError(f"matrix must be square, at least 2×2, not shape {matrix.shape}")
    if not np.issubdtype(matrix.dtype, np.integer) or np.any(matrix < 0) or matrix.sum() == 0:
        raise ValueError("matrix must hold non-negative integer counts, not all zero")
    tp = np.diag(matrix).astype(float)
    fp = matrix.sum(axis=0) - tp
    fn = matrix.sum(axis=1) - tp
    support = matrix.sum(axis=1)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    weights = support / support.sum()
    micro_p = _ratio(tp.sum(), tp.sum() + fp.sum())
    micro_r = _ratio(tp.sum(), tp.sum() + fn.sum())
    micro_f1 = _ratio(2 * tp.sum(), 2 * tp.sum() + fp.sum() + fn.sum())
    averages = {
        "macro": (float(precision.mean()), float(recall.mean()), float(f1.mean())),
        "micro": (float(micro_p), float(micro_r), float(micro_f1)),
        "weighted": (float(weights @ precision), float(weights @ recall), float(weights @ f1)),
    }
    return ClassMetrics(precision, recall, f1, support, averages)
