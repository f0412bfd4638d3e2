"""Hyperparameter search from the inside: expected improvement and genetic-algorithm operators.

Introduced in notebook 07 (evaluating models and searching hyperparameters). The notebook runs
the production searches with Optuna's samplers; these helpers are the small, tested pieces that
the lesson writes out to show what those samplers do inside:

- :func:`expected_improvement`, the acquisition function of Bayesian optimization with a
  Gaussian-process surrogate (for *minimization*): how much, on average, a trial at ``x`` is
  expected to improve on the best value seen so far, given the surrogate's posterior mean and
  standard deviation at ``x``;
- :func:`tournament_selection`, :func:`blend_crossover` and :func:`gaussian_mutation`, the three
  operators of a real-coded genetic algorithm (selection, crossover, mutation).

Every random choice takes a ``numpy.random.Generator``, so a search is reproducible from a seed.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from .parameters import ParameterError, check_param


def _finite(name: str, values: ArrayLike) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold finite numbers only")
    return array


def expected_improvement(mean: ArrayLike, std: ArrayLike, best: float,
                         xi: float = 0.0) -> np.ndarray:
    """Expected improvement ``E[max(best - xi - Y, 0)]`` for ``Y ~ N(mean, std²)`` (minimization).

    ``mean`` and ``std`` are the surrogate's posterior mean and standard deviation at the
    candidate points (same shape, ``std >= 0``); ``best`` is the lowest value observed so far and
    ``xi >= 0`` asks for an improvement of at least ``xi`` (more exploration). In closed form,
    with ``d = best - xi - mean`` and ``z = d / std``::

        EI = d·Φ(z) + std·φ(z)        (and max(d, 0) where std = 0)

    where Φ and φ are the standard normal CDF and density. Large where the mean is low
    (exploitation) *or* the uncertainty is high (exploration).
    """
    mean, std = _finite("mean", mean), _finite("std", std)
    if mean.shape != std.shape:
        raise ValueError(f"mean and std must have the same shape: {mean.shape} and {std.shape}")
    if np.any(std < 0):
        raise ValueError("std must be >= 0 (a standard deviation)")
    check_param("best", best, float)
    check_param("xi", xi, float, ge=0)
    improvement = best - xi - mean
    safe_std = np.where(std > 0, std, 1.0)
    z = improvement / safe_std
    ei = improvement * stats.norm.cdf(z) + std * stats.norm.pdf(z)
    return np.where(std > 0, np.maximum(ei, 0.0), np.maximum(improvement, 0.0))


def tournament_selection(scores: ArrayLike, n_parents: int, tournament_size: int,
                         rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n_parents`` parents, each the best of ``tournament_size`` random individuals.

    ``scores`` holds one fitness per individual, *higher is better*. Each tournament draws
    ``tournament_size`` distinct individuals uniformly at random and keeps the one with the
    highest score (ties: the first drawn). A larger tournament means stronger selection
    pressure; size 1 is uniform random selection.
    """
    scores = _finite("scores", scores)
    if scores.ndim != 1 or scores.size == 0:
        raise ValueError(f"scores must be a non-empty 1-D array, not shape {scores.shape}")
    check_param("n_parents", n_parents, int, ge=1)
    check_param("tournament_size", tournament_size, int, ge=1, le=scores.size)
    parents = np.empty(n_parents, dtype=np.int64)
    for i in range(n_parents):
        contestants = rng.choice(scores.size, size=tournament_size, replace=False)
        parents[i] = contestants[np.argmax(scores[contestants])]
    return parents


def _bounds(low: ArrayLike, high: ArrayLike, dims: int) -> tuple[np.ndarray, np.ndarray]:
    low, high = _finite("low", low), _finite("high", high)
    if low.shape != (dims,) or high.shape != (dims,):
        raise ValueError(f"low and high must have shape ({dims},), one bound per gene; got "
                         f"{low.shape} and {high.shape}")
    if np.any(low >= high):
        raise ValueError("every lower bound must be below its upper bound")
    return low, high


def blend_crossover(parent_a: ArrayLike, parent_b: ArrayLike, rng: np.random.Generator,
                    alpha: float = 0.5, low: ArrayLike | None = None,
                    high: ArrayLike | None = None) -> np.ndarray:
    """One child of BLX-α crossover: each gene uniform on the parents' interval widened by α.

    For gene ``i`` with parents' values ``a_i`` and ``b_i``, the child's value is drawn
    uniformly from ``[min - α·d, max + α·d]`` with ``d = |a_i - b_i|`` (α = 0: between the
    parents; α = 0.5, the usual choice, keeps the population's spread from shrinking on
    average). With ``low``/``high`` the child is clipped to the search space.
    """
    a, b = _finite("parent_a", parent_a), _finite("parent_b", parent_b)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"parents must be 1-D vectors of the same length: {a.shape} and "
                         f"{b.shape}")
    check_param("alpha", alpha, float, ge=0)
    spread = np.abs(a - b)
    child = rng.uniform(np.minimum(a, b) - alpha * spread, np.maximum(a, b) + alpha * spread)
    if (low is None) != (high is None):
        raise ParameterError("parameters low and high must be given together")
    if low is not None:
        child = np.clip(child, *_bounds(low, high, a.size))
    return child


def gaussian_mutation(genes: ArrayLike, low: ArrayLike, high: ArrayLike, rate: float,
                      scale: float, rng: np.random.Generator) -> np.ndarray:
    """A mutated copy of ``genes``: each gene, with probability ``rate``, moves by Gaussian noise.

    The noise's standard deviation is ``scale`` times the gene's range ``high - low``; the result
    is clipped to ``[low, high]``. Mutation keeps diversity in the population, so that the
    search can still reach values that no parent is near.
    """
    genes = _finite("genes", genes)
    if genes.ndim != 1 or genes.size == 0:
        raise ValueError(f"genes must be a non-empty 1-D vector, not shape {genes.shape}")
    low, high = _bounds(low, high, genes.size)
    check_param("rate", rate, float, ge=0, le=1)
    check_param("scale", scale, float, ge=0)
    mutate = rng.random(genes.size) < rate
    noise = rng.normal(0.0, 1.0, genes.size) * scale * (high - low)
    return np.clip(np.where(mutate, genes + noise, genes), low, high)
