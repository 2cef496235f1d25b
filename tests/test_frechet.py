import numpy as np
import pytest

from dfkit.metrics.frechet import frechet_distance


def test_matches_closed_form_for_known_gaussians():
    # For commuting (here diagonal) covariances, Tr((Σ₁Σ₂)^½) = Σ sqrt(σ₁² σ₂²).
    rng = np.random.default_rng(0)
    n = 200_000
    a = rng.normal(0.0, [1.0, 2.0, 0.5], size=(n, 3))
    b = rng.normal([1.0, 0.0, -1.0], [2.0, 2.0, 1.5], size=(n, 3))
    var_a, var_b = np.array([1.0, 4.0, 0.25]), np.array([4.0, 4.0, 2.25])
    expected = 1.0 + 1.0 + np.sum(var_a + var_b - 2 * np.sqrt(var_a * var_b))
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.02)


def test_non_commuting_covariances_match_scalar_sqrtm():
    rng = np.random.default_rng(1)
    cov_a = np.array([[2.0, 0.9], [0.9, 1.0]])
    cov_b = np.array([[1.0, -0.5], [-0.5, 3.0]])
    a = rng.multivariate_normal([0, 0], cov_a, size=300_000)
    b = rng.multivariate_normal([0, 0], cov_b, size=300_000)
    # Tr((AB)^½) from the eigenvalues of AB, which are real and positive
    trace_sqrt = np.sqrt(np.linalg.eigvals(cov_a @ cov_b).real).sum()
    expected = np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.03)


def test_zero_for_identical_sets_and_symmetric():
    x = np.random.default_rng(2).normal(size=(500, 4))
    y = np.random.default_rng(3).normal(loc=0.3, size=(400, 4))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(x, y) == pytest.approx(frechet_distance(y, x), rel=1e-6)


def test_bad_shapes():
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        frechet_distance(np.zeros(5), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="same dimension"):
        frechet_distance(np.zeros((5, 2)), np.zeros((5, 3)))
