"""Expected improvement and the genetic-algorithm operators (course_lib.search)."""

import numpy as np
import pytest
from scipy import stats

from course_lib import search
from course_lib.parameters import ParameterError


def test_expected_improvement_known_values():
    # mean = best, std = 1: EI = φ(0) = 1/sqrt(2π).
    assert search.expected_improvement([0.0], [1.0], 0.0)[0] == pytest.approx(
        1 / np.sqrt(2 * np.pi), rel=1e-12)
    # Closed form with d = 1, std = 2: d·Φ(0.5) + 2·φ(0.5), values from SciPy.
    expected = 1.0 * stats.norm.cdf(0.5) + 2.0 * stats.norm.pdf(0.5)
    assert search.expected_improvement([1.0], [2.0], 2.0)[0] == pytest.approx(expected,
                                                                               rel=1e-12)
    # No uncertainty: EI is the plain improvement, or 0.
    assert search.expected_improvement([1.0, 3.0], [0.0, 0.0], 2.0).tolist() == [1.0, 0.0]


def test_expected_improvement_matches_monte_carlo():
    rng = np.random.default_rng(0)
    mean, std, best, xi = np.array([0.3, -0.5, 1.2]), np.array([0.7, 0.2, 1.5]), 0.1, 0.05
    samples = rng.normal(mean, std, size=(400_000, 3))
    monte_carlo = np.maximum(best - xi - samples, 0).mean(axis=0)
    # tolerance: 400,000 samples give a Monte Carlo standard error below 0.002 here.
    assert search.expected_improvement(mean, std, best, xi) == pytest.approx(monte_carlo,
                                                                              abs=0.006)


def test_expected_improvement_grows_with_uncertainty_and_lower_mean():
    std = np.linspace(0.1, 3, 30)
    assert np.all(np.diff(search.expected_improvement(np.zeros(30), std, 0.0)) > 0)
    mean = np.linspace(-2, 2, 30)
    assert np.all(np.diff(search.expected_improvement(mean, np.ones(30), 0.0)) < 0)


@pytest.mark.parametrize(("mean", "std", "best", "message"), [
    ([0.0, 1.0], [1.0], 0.0, "same shape"),
    ([0.0], [-1.0], 0.0, ">= 0"),
    ([np.nan], [1.0], 0.0, "finite"),
])
def test_expected_improvement_bad_inputs(mean, std, best, message):
    with pytest.raises(ValueError, match=message):
        search.expected_improvement(mean, std, best)


def test_expected_improvement_bad_xi():
    with pytest.raises(ParameterError, match="xi"):
        search.expected_improvement([0.0], [1.0], 0.0, xi=-0.1)


def test_tournament_of_the_whole_population_always_picks_the_best():
    scores = [0.2, 0.9, 0.5, 0.1]
    parents = search.tournament_selection(scores, 10, 4, np.random.default_rng(0))
    assert parents.tolist() == [1] * 10


def test_tournament_of_size_one_is_uniform():
    parents = search.tournament_selection(np.arange(4.0), 40_000, 1, np.random.default_rng(1))
    counts = np.bincount(parents, minlength=4)
    # tolerance: 6 binomial standard errors (sqrt(40000·0.25·0.75) ≈ 87).
    assert np.all(np.abs(counts - 10_000) < 6 * 87)


def test_tournament_of_size_two_known_probabilities():
    # Rank r (0 = worst) of n wins a 2-tournament with probability 2r / (n(n - 1)).
    parents = search.tournament_selection([3.0, 1.0, 2.0], 60_000, 2, np.random.default_rng(2))
    shares = np.bincount(parents, minlength=3) / 60_000
    # tolerance: 6 binomial standard errors (at most 0.0020 here).
    assert shares == pytest.approx([2 / 3, 0.0, 1 / 3], abs=0.012)


def test_tournament_bad_inputs():
    with pytest.raises(ParameterError, match="tournament_size"):
        search.tournament_selection([1.0, 2.0], 1, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="1-D"):
        search.tournament_selection([[1.0, 2.0]], 1, 1, np.random.default_rng(0))


def test_blend_crossover_stays_in_the_widened_interval_and_fills_it():
    a, b = np.array([0.0, 1.0]), np.array([1.0, 1.0])
    rng = np.random.default_rng(0)
    children = np.array([search.blend_crossover(a, b, rng, alpha=0.5) for _ in range(20_000)])
    assert children[:, 0].min() >= -0.5 and children[:, 0].max() <= 1.5
    assert children[:, 1].tolist() == [1.0] * 20_000  # equal parents: the gene is inherited
    # Uniform on [-0.5, 1.5]: mean 0.5, variance 2²/12 (tolerance: 6 standard errors).
    assert children[:, 0].mean() == pytest.approx(0.5, abs=6 * np.sqrt(1 / 3 / 20_000))
    assert children[:, 0].var() == pytest.approx(1 / 3, rel=0.05)
    clipped = search.blend_crossover(a, b, rng, alpha=5.0, low=[0.0, 0.0], high=[1.0, 1.0])
    assert np.all((clipped >= 0) & (clipped <= 1))


def test_blend_crossover_bad_inputs():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="same length"):
        search.blend_crossover([0.0, 1.0], [0.0], rng)
    with pytest.raises(ParameterError, match="together"):
        search.blend_crossover([0.0], [1.0], rng, low=[0.0])
    with pytest.raises(ValueError, match="below"):
        search.blend_crossover([0.0], [1.0], rng, low=[1.0], high=[0.0])


def test_gaussian_mutation_rates_and_bounds():
    genes, low, high = np.full(3, 0.5), np.zeros(3), np.ones(3)
    rng = np.random.default_rng(0)
    assert search.gaussian_mutation(genes, low, high, 0.0, 0.1, rng).tolist() == [0.5] * 3
    many = np.array([search.gaussian_mutation(genes, low, high, 0.3, 0.05, rng)
                     for _ in range(20_000)])
    # tolerance: 6 binomial standard errors of the share of mutated genes.
    assert np.mean(many != 0.5) == pytest.approx(0.3, abs=6 * np.sqrt(0.21 / 60_000))
    moved = many[many != 0.5] - 0.5
    # Noise N(0, 0.05²) (range 1): its standard deviation within 3 % (clipping is negligible).
    assert moved.std() == pytest.approx(0.05, rel=0.03)
    wild = search.gaussian_mutation(genes, low, high, 1.0, 10.0, rng)
    assert np.all((wild >= 0) & (wild <= 1))


def test_gaussian_mutation_bad_inputs():
    rng = np.random.default_rng(0)
    with pytest.raises(ParameterError, match="rate"):
        search.gaussian_mutation([0.5], [0.0], [1.0], 1.5, 0.1, rng)
    with pytest.raises(ValueError, match="one bound per gene"):
        search.gaussian_mutation([0.5, 0.5], [0.0], [1.0], 0.5, 0.1, rng)
