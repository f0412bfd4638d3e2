"""Data-preparation tools: gaps and outliers in a series, conditioning, input-pipeline timing.

Introduced in notebook 04 (data preprocessing and augmentation). They are the measuring
instruments of that notebook, kept here so that they are tested once:

- :func:`missing_runs` and :func:`robust_zscores` describe the defects of a real series (how
  long its gaps are, which points are far from the rest);
- :func:`gd_iterations` measures what feature scaling buys: how many gradient-descent steps a
  least-squares problem needs before and after scaling.

Input pipelines are timed with :func:`course_lib.timing.compare`.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .parameters import check_param

# 0.6745 is the 75th percentile of the standard normal: for normal data MAD ≈ 0.6745 σ, so the
# robust z-score below is on the same scale as an ordinary z-score.
MAD_TO_SIGMA = 0.6745


def missing_runs(mask: np.ndarray) -> np.ndarray:
    """Lengths of the runs of consecutive True values of a 1-D boolean mask, in order.

    ``missing_runs(series.isna())`` gives the lengths of the gaps of a series:
    ``[False, True, True, False, True]`` -> ``[2, 1]``.
    """
    mask = np.asarray(mask)
    if mask.ndim != 1 or mask.dtype != bool:
        raise ValueError(f"mask must be a 1-D boolean array; got dtype {mask.dtype} and shape "
                         f"{mask.shape}")
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return ends - starts


def robust_zscores(values: np.ndarray) -> np.ndarray:
    """Robust z-scores ``0.6745 (x - median) / MAD`` of a 1-D array (Iglewicz and Hoaglin).

    MAD is the median absolute deviation from the median. Unlike the mean and the standard
    deviation, the median and the MAD barely move when a few points are wild, so the outliers
    cannot hide themselves by inflating the scale. Raises ValueError on NaN values (impute or
    drop them first) and when the MAD is 0 (more than half the values are equal).
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"values must be a non-empty 1-D array; got shape {values.shape}")
    if np.isnan(values).any():
        raise ValueError(f"values contain {np.isnan(values).sum()} NaN; impute or drop them first")
    deviations = values - np.median(values)
    mad = np.median(np.abs(deviations))
    if mad == 0:
        raise ValueError("the median absolute deviation is 0 (more than half the values are "
                         "equal): robust z-scores are undefined")
    return MAD_TO_SIGMA * deviations / mad


@dataclass(frozen=True)
class GDRun:
    """Result of :func:`gd_iterations`.

    ``iterations``: steps taken until the relative loss gap fell to ``tol`` (None if it never
    did within ``max_iters``); ``gaps``: the relative loss gap before each step and after the
    last one; ``learning_rate``: the step size used; ``condition_number``: of ``XᵀX``.
    """

    iterations: int | None
    gaps: np.ndarray
    learning_rate: float
    condition_number: float


def gd_iterations(X: np.ndarray, y: np.ndarray, tol: float = 1e-6,
                  max_iters: int = 10_000) -> GDRun:
    """Run full-batch gradient descent on the MSE of ``X θ ≈ y`` and count the steps it needs.

    Starts from θ = 0 with the step size 1/λ_max of the Hessian H = 2XᵀX/n (the largest
    step that never overshoots along any direction), and stops once the relative loss gap
    (L(θ) - L*) / (L(0) - L*) is at most ``tol``, or after ``max_iters`` steps. L* is the
    least-squares optimum (``np.linalg.lstsq``); the gap is computed exactly as
    (θ - θ*)ᵀ (XᵀX/n) (θ - θ*), which does not lose precision near the optimum.
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must have shape (n, d) and y shape (n,); got shapes {X.shape} and "
                         f"{y.shape}")
    check_param("tol", tol, float, gt=0, lt=1)
    check_param("max_iters", max_iters, int, ge=1)
    gram = X.T @ X / len(y)
    eigenvalues = np.linalg.eigvalsh(gram)
    learning_rate = 1 / (2 * eigenvalues[-1])
    theta_star, *_ = np.linalg.lstsq(X, y, rcond=None)
    theta = np.zeros(X.shape[1])
    offset = theta - theta_star
    gap0 = offset @ gram @ offset
    if gap0 == 0:
        raise ValueError("θ = 0 is already optimal: nothing to measure")
    moment = X.T @ y / len(y)
    gaps = [1.0]
    for step in range(1, max_iters + 1):
        theta = theta - learning_rate * 2 * (gram @ theta - moment)  # ∇L = (2/n) Xᵀ(Xθ - y)
        offset = theta - theta_star
        gaps.append(offset @ gram @ offset / gap0)
        if gaps[-1] <= tol:
            return GDRun(step, np.array(gaps), learning_rate, eigenvalues[-1] / eigenvalues[0])
    return GDRun(None, np.array(gaps), learning_rate, eigenvalues[-1] / eigenvalues[0])
