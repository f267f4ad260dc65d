"""IRT functions: known answers, agreement with catsim, EAP against another integration."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from server.irt import eap, information, log_likelihood, p3


def test_known_probabilities() -> None:
    assert p3(0.0, np.array(1.0), np.array(0.0), np.array(0.0)) == pytest.approx(0.5)
    assert p3(1.0, np.array(1.2), np.array(1.0), np.array(0.2)) == pytest.approx(0.6)
    expected = 0.2 + 0.8 / (1 + math.exp(-1.0))
    assert p3(1.0, np.array(1.0), np.array(0.0), np.array(0.2)) == pytest.approx(
        expected, abs=1e-15
    )


def test_known_information() -> None:
    # 2PL at theta = b: a^2 / 4; 3PL lower asymptote lowers it.
    assert information(0.5, np.array(1.6), np.array(0.5), np.array(0.0)) == pytest.approx(0.64)
    p = 0.2 + 0.8 * 0.5
    expected = 1.6**2 * (p - 0.2) ** 2 * (1 - p) / (0.8**2 * p)
    assert information(0.5, np.array(1.6), np.array(0.5), np.array(0.2)) == pytest.approx(expected)


def test_information_is_the_squared_slope_over_the_variance() -> None:
    a, b, c = np.array([0.7, 1.3, 2.1]), np.array([-1.0, 0.2, 1.4]), np.array([0.15, 0.2, 0.25])
    for theta in np.linspace(-3, 3, 13):
        h = 1e-5
        slope = (p3(theta + h, a, b, c) - p3(theta - h, a, b, c)) / (2 * h)
        p = p3(theta, a, b, c)
        assert information(theta, a, b, c) == pytest.approx(slope**2 / (p * (1 - p)), rel=1e-6)


def test_curves_agree_with_catsim_to_1e_9() -> None:
    catsim_irt = pytest.importorskip("catsim.irt")
    rng = np.random.default_rng(3)
    items = np.column_stack(
        [
            rng.uniform(0.5, 2.5, 500),
            rng.normal(0, 1.5, 500),
            rng.uniform(0, 0.3, 500),
            np.ones(500),
        ]
    )
    for theta in np.linspace(-4, 4, 17):
        ours_p = p3(theta, items[:, 0], items[:, 1], items[:, 2])
        ours_i = information(theta, items[:, 0], items[:, 1], items[:, 2])
        np.testing.assert_allclose(ours_p, catsim_irt.icc_hpc(theta, items), rtol=0, atol=1e-9)
        np.testing.assert_allclose(ours_i, catsim_irt.inf_hpc(theta, items), rtol=0, atol=1e-9)


def quadrature_moments(
    correct: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray, mean: float, sd: float
) -> tuple[float, float]:
    def density(t: float) -> float:
        like = float(np.exp(log_likelihood(np.array([t]), correct, a, b, c))[0])
        return like * math.exp(-0.5 * ((t - mean) / sd) ** 2)

    mass = integrate.quad(density, -10, 10, limit=200)[0]
    first = integrate.quad(lambda t: t * density(t), -10, 10, limit=200)[0] / mass
    second = integrate.quad(lambda t: t * t * density(t), -10, 10, limit=200)[0] / mass
    return first, math.sqrt(second - first**2)


def test_eap_agrees_with_adaptive_quadrature() -> None:
    rng = np.random.default_rng(9)
    for _ in range(20):
        n = int(rng.integers(1, 12))
        a, b = rng.uniform(0.6, 2.0, n), rng.normal(0, 1, n)
        c, correct = rng.uniform(0.1, 0.25, n), rng.integers(0, 2, n).astype(float)
        prior_mean, prior_sd = float(rng.normal(0, 0.5)), float(rng.uniform(0.6, 1.2))
        mean, sd = quadrature_moments(correct, a, b, c, prior_mean, prior_sd)
        estimate = eap(correct, a, b, c, prior_mean, prior_sd)
        # The grid has a step of 0.125: its rule agrees with adaptive quadrature to 1e-3.
        assert estimate.theta == pytest.approx(mean, abs=1e-3)
        assert estimate.se == pytest.approx(sd, abs=1e-3)


def test_more_right_answers_never_lower_the_estimate() -> None:
    a, b, c = np.full(6, 1.2), np.linspace(-1, 1, 6), np.full(6, 0.2)
    estimates = [eap(np.array([1.0] * k + [0.0] * (6 - k)), a, b, c).theta for k in range(7)]
    assert estimates == sorted(estimates)
