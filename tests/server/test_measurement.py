"""Category and overall abilities from the higher-order model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from server.irt import log_likelihood
from server.measurement import CUTS, RHO, Responses, estimate, level_of

RNG = np.random.default_rng(21)


def responses(n: int, right: int, b: float = 0.0) -> Responses:
    return Responses(
        correct=np.array([1.0] * right + [0.0] * (n - right)),
        a=np.full(n, 1.2),
        b=np.linspace(b - 1, b + 1, n),
        c=np.full(n, 0.2),
    )


def test_no_answers_give_the_prior() -> None:
    empty = Responses(np.array([]), np.array([]), np.array([]), np.array([]))
    abilities, overall = estimate({"cnn": empty})
    assert abilities["cnn"].theta == pytest.approx(0.0, abs=1e-9)
    assert abilities["cnn"].se == pytest.approx(1.0, abs=0.01)
    assert overall.theta == pytest.approx(0.0, abs=1e-9)


def test_a_category_borrows_strength_from_the_others() -> None:
    # The same two answers in "cnn"; the other categories all right or all wrong.
    strong = {c: responses(5, 5) for c in ("foundations", "improving", "sequence")}
    weak = {c: responses(5, 0) for c in ("foundations", "improving", "sequence")}
    cnn = responses(5, 2)
    with_strong = estimate({**strong, "cnn": cnn})[0]["cnn"]
    with_weak = estimate({**weak, "cnn": cnn})[0]["cnn"]
    alone = estimate({"cnn": cnn})[0]["cnn"]
    assert with_weak.theta < alone.theta < with_strong.theta
    assert with_strong.se < alone.se  # the other categories also make it more precise


def test_matches_a_direct_integration_over_the_correlated_abilities() -> None:
    """Two categories: integrate the bivariate normal prior (correlation rho) on a fine grid of
    (theta_1, theta_2) directly, a different route to the same posterior."""
    grid = np.linspace(-6, 6, 241)
    t1, t2 = np.meshgrid(grid, grid, indexing="ij")
    inverse = np.linalg.inv(np.array([[1.0, RHO], [RHO, 1.0]]))
    log_prior = -0.5 * (inverse[0, 0] * t1**2 + 2 * inverse[0, 1] * t1 * t2 + inverse[1, 1] * t2**2)
    for _ in range(10):
        first = Responses(
            RNG.integers(0, 2, 5).astype(float),
            RNG.uniform(0.6, 2, 5),
            RNG.normal(0, 1, 5),
            np.full(5, 0.2),
        )
        second = Responses(
            RNG.integers(0, 2, 6).astype(float),
            RNG.uniform(0.6, 2, 6),
            RNG.normal(0, 1, 6),
            np.full(6, 0.2),
        )
        log_post = (
            log_prior
            + log_likelihood(grid, first.correct, first.a, first.b, first.c)[:, None]
            + log_likelihood(grid, second.correct, second.a, second.b, second.c)[None, :]
        )
        post = np.exp(log_post - log_post.max())
        post /= post.sum()
        mean1 = float((post * t1).sum())
        sd1 = math.sqrt(float((post * (t1 - mean1) ** 2).sum()))
        marginal = post.sum(axis=1)
        cdf = np.cumsum(marginal) - marginal / 2  # each grid point's mass centred on it
        below = float(np.interp(CUTS[0], grid, cdf))
        abilities, _ = estimate({"x": first, "y": second})
        assert abilities["x"].theta == pytest.approx(mean1, abs=2e-3)
        assert abilities["x"].se == pytest.approx(sd1, abs=2e-3)
        assert abilities["x"].level_probabilities["beginning"] == pytest.approx(below, abs=5e-3)


def test_levels_and_confidences_are_consistent() -> None:
    abilities, overall = estimate(
        {
            c: responses(5, k)
            for c, k in (("foundations", 5), ("improving", 3), ("cnn", 1), ("sequence", 4))
        }
    )
    for ability in [*abilities.values(), overall]:
        assert sum(ability.level_probabilities.values()) == pytest.approx(1.0, abs=1e-3)
        assert ability.level == level_of(ability.theta)
        assert ability.confidence == ability.level_probabilities[ability.level]
        assert 0.0 < ability.se < 1.0


def test_scoring_is_pure() -> None:
    data = {c: responses(5, 3, b) for c, b in (("cnn", 0.5), ("sequence", -0.5))}
    assert estimate(data) == estimate(data)


def test_levels_follow_the_documented_cuts() -> None:
    assert (level_of(CUTS[0] - 1e-9), level_of(CUTS[0]), level_of(CUTS[1])) == (
        "beginning",
        "developing",
        "accomplished",
    )
