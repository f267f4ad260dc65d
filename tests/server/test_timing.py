"""The lognormal response-time model: fitted from sittings, used to fill the time."""

from __future__ import annotations

import math

import numpy as np

from server import timing


def simulated(
    items: int, sittings: int, seed: int
) -> tuple[np.ndarray, list[tuple[str, str, float]]]:
    rng = np.random.default_rng(seed)
    beta = math.log(24) + rng.normal(0, 0.4, items)
    observed = []
    for sitting in range(sittings):
        tau = rng.normal(0, 0.3)
        for item in rng.choice(items, 20, replace=False):
            seconds = math.exp(beta[item] - tau + rng.normal(0, 0.5))
            observed.append((f"s{sitting}", f"i{item}", seconds))
    return beta, observed


def test_the_fit_recovers_item_intensities_and_spread() -> None:
    beta, observed = simulated(items=60, sittings=600, seed=3)
    fitted = timing.fit(observed)
    ours = np.array([fitted[f"i{n}"].beta for n in range(60)])
    assert np.corrcoef(ours, beta)[0, 1] > 0.95
    assert abs(float(np.mean(ours - beta))) < 0.1  # candidates' speeds centred on zero
    alphas = [fitted[f"i{n}"].alpha for n in range(60)]
    assert 1.6 < float(np.median(alphas)) < 2.4  # the noise was 0.5 log-seconds


def test_an_item_with_little_data_stays_near_the_default() -> None:
    fitted = timing.fit([("a", "rare", 200.0), ("b", "rare", 180.0)])
    rare = fitted["rare"]
    assert rare.answers == 2
    assert timing.DEFAULT.beta < rare.beta < math.log(190)
    assert timing.lookup(fitted, "never answered") == timing.DEFAULT


def test_times_that_are_no_answer_are_left_out() -> None:
    fitted = timing.fit([("a", "x", 0.2), ("b", "x", 3600.0)])
    assert fitted == {}


def test_a_fast_candidates_speed_is_positive_and_shrunk() -> None:
    item = timing.ItemTime(math.log(30), 2.0)
    fast = timing.speed([(item, 15.0)] * 4)
    assert 0 < fast < math.log(2)  # twice as fast, shrunk towards average
    assert item.expected_seconds(fast) < item.expected_seconds(0.0)
