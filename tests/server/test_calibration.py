"""Item analysis and calibration on simulated responses with known parameters."""

from __future__ import annotations

import numpy as np
import pytest

from server.calibration import ResponseMatrix, analyse, calibrate
from server.irt import p3

RNG = np.random.default_rng(17)


def simulate(people: int, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    theta = RNG.normal(0, 1, people)
    return (RNG.random((people, a.size)) < p3(theta[:, None], a, b, c)).astype(float)


def test_calibration_recovers_known_parameters() -> None:
    """3,000 candidates, 40 items, c known: a and b come back within 0.15 RMSE each."""
    a, b, c = RNG.uniform(0.7, 2.0, 40), RNG.normal(0, 1, 40), np.full(40, 0.2)
    matrix = ResponseMatrix(
        [f"i{n}" for n in range(40)], simulate(3000, a, b, c), np.ones(40, bool)
    )
    fitted = calibrate(matrix, np.ones(40), np.zeros(40), c, np.ones(40, bool))
    assert fitted.converged
    assert np.sqrt(np.mean((fitted.a - a) ** 2)) < 0.15
    assert np.sqrt(np.mean((fitted.b - b) ** 2)) < 0.15


def test_pretest_items_are_placed_on_the_anchored_scale() -> None:
    """Live items keep their parameters; pretest items seen by a third of candidates each are
    estimated on the live items' scale."""
    live_a, live_b = RNG.uniform(0.8, 1.8, 30), RNG.normal(0, 1, 30)
    new_a, new_b = RNG.uniform(0.8, 1.8, 6), np.array([-1.5, -0.5, 0.0, 0.5, 1.0, 1.5])
    a, b, c = np.concatenate([live_a, new_a]), np.concatenate([live_b, new_b]), np.full(36, 0.2)
    scores = simulate(4500, a, b, c)
    for n in range(30, 36):  # each pretest item rides along on one form in three
        scores[np.arange(4500) % 3 != n % 3, n] = np.nan
    free = np.array([False] * 30 + [True] * 6)
    matrix = ResponseMatrix([f"i{n}" for n in range(36)], scores, ~free)
    start_a, start_b = np.concatenate([live_a, np.ones(6)]), np.concatenate([live_b, np.zeros(6)])
    fitted = calibrate(matrix, start_a, start_b, c, free)
    np.testing.assert_array_equal(fitted.a[:30], live_a)  # the anchors did not move
    np.testing.assert_array_equal(fitted.b[:30], live_b)
    assert np.abs(fitted.b[30:] - new_b).max() < 0.3
    assert np.abs(fitted.a[30:] - new_a).max() < 0.4


def test_analysis_flags_a_miskeyed_item_and_easy_items() -> None:
    a, b, c = np.full(20, 1.5), np.linspace(-1, 1, 20), np.full(20, 0.2)
    b[5] = -4.0  # everyone gets it right
    scores = simulate(2000, a, b, c)
    scores[:, 7] = 1 - scores[:, 7]  # the key of item 7 is wrong: strong candidates "miss" it
    matrix = ResponseMatrix([f"i{n}" for n in range(20)], scores, np.ones(20, bool))
    rows = {row.item_id: row for row in analyse(matrix, {})}
    assert rows["i7"].point_biserial < 0
    assert "negative point-biserial: check the key" in rows["i7"].flags
    assert rows["i5"].p_value > 0.95 and "p-value outside 0.2-0.8" in rows["i5"].flags
    assert rows["i10"].flags == ()
    assert 0.3 < rows["i10"].point_biserial < 0.8


def test_option_rates_and_a_popular_distractor() -> None:
    sittings = [
        {"q1": (False, "b", False), "q2": (True, "a", False)},
        {"q1": (False, "b", False), "q2": (True, "a", False)},
        {"q1": (True, "a", False), "q2": (False, "c", False)},
    ]
    matrix = ResponseMatrix.build(sittings)
    [q1, _q2] = analyse(matrix, {"q1": ("a",), "q2": ("a",)})
    assert q1.option_rates == {
        "a": pytest.approx(1 / 3, abs=1e-4),
        "b": pytest.approx(2 / 3, abs=1e-4),
    }
    assert "distractor b chosen more than the key" in q1.flags
