"""Adaptive delivery: maximum information selection and the incremental EAP update."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from server.adaptive import AdaptiveTest
from server.irt import eap, information, p3

RNG = np.random.default_rng(4)
A, B, C = RNG.uniform(0.7, 2.0, 2000), RNG.normal(0, 1.2, 2000), RNG.uniform(0.1, 0.25, 2000)


def test_selects_the_most_informative_unused_item() -> None:
    test = AdaptiveTest(A, B, C)
    first = test.select()
    assert first == int(np.argmax(information(0.0, A, B, C)))
    test.answer(first, True)
    second = test.select()
    info = information(test.estimate.theta, A, B, C)
    info[first] = -1
    assert second == int(np.argmax(info)) and second != first


def test_incremental_update_equals_a_full_eap() -> None:
    test = AdaptiveTest(A, B, C)
    given, answers = [], []
    for step in range(12):
        item = test.select()
        right = step % 3 != 0
        test.answer(item, right)
        given.append(item)
        answers.append(float(right))
    full = eap(np.array(answers), A[given], B[given], C[given])
    assert test.estimate.theta == pytest.approx(full.theta, abs=1e-12)
    assert test.estimate.se == pytest.approx(full.se, abs=1e-12)


def test_a_twenty_item_test_recovers_ability() -> None:
    errors = []
    draws = np.random.default_rng(8)
    for truth in np.linspace(-2, 2, 41):
        test = AdaptiveTest(A, B, C)
        for _ in range(20):
            item = test.select()
            test.answer(item, bool(draws.random() < p3(truth, A[item], B[item], C[item])))
        errors.append(test.estimate.theta - truth)
        assert test.estimate.se < 0.45
    assert np.sqrt(np.mean(np.square(errors))) < 0.45


# -- a sitting to levels ---------------------------------------------------------------------


def _index(size: int = 400, seed: int = 5) -> Any:
    from bench.measurement import generated_bank
    from server.assembly import BankIndex

    return BankIndex(generated_bank(size, seed))


def _times(index: Any, seconds: float = 24.0) -> list[Any]:
    from server import timing

    return [timing.ItemTime(math.log(seconds), 4.0)] * len(index.items)


def test_every_category_is_measured_first_then_the_least_decided() -> None:
    import random

    from server.adaptive import LevelSitting, Rules

    index = _index()
    sitting = LevelSitting(index, Rules(), random.Random(1), _times(index))
    for _ in range(12):
        item = sitting.select()
        assert item is not None
        sitting.answer(item, True, 24.0)
    assert sorted(sitting.per_category.tolist()) == [3, 3, 3, 3]
    seen = sitting.given
    assert len(set(seen)) == len(seen)
    assert all(sitting.skill_used <= 2)


def test_enemies_seen_items_and_the_exposure_ceiling_are_honoured() -> None:
    import random

    from server.adaptive import LevelSitting, Rules

    index = _index()
    exposure = np.zeros(len(index.items))
    exposure[:200] = 30  # over the ceiling in a 100-sitting history: 31/101 > 0.2
    excluded = np.zeros(len(index.items), dtype=bool)
    excluded[200:250] = True  # seen in an earlier attempt
    never_decided = Rules(confidence=1.0, overall_confidence=1.0)
    sitting = LevelSitting(
        index, never_decided, random.Random(2), _times(index), exposure, 100, excluded
    )
    first = sitting.select()
    assert first is not None and first >= 250
    index.enemies[first].append(251)
    index.enemies[251].append(first)
    sitting.answer(first, False, 20.0)
    for _ in range(15):
        item = sitting.select()
        assert item is not None and item >= 250 and item != 251
        sitting.answer(item, False, 20.0)


def test_the_sitting_stops_when_the_time_is_spent_or_every_level_decided() -> None:
    import random

    from server.adaptive import LevelSitting, Rules

    index = _index()
    slow = LevelSitting(index, Rules(seconds=100), random.Random(3), _times(index, 30.0))
    while (item := slow.select()) is not None:
        slow.answer(item, True, 30.0)
    assert len(slow.given) == 3  # a fourth would not fit in the 10 s left
    sure = LevelSitting(
        index, Rules(confidence=0.5, overall_confidence=0.5), random.Random(4), _times(index)
    )
    while (item := sure.select()) is not None:
        sure.answer(item, True, 24.0)
    assert sure.decided() and len(sure.given) < 20
    categories, overall = sure.abilities()
    assert overall.level == "accomplished" and all(c.confidence >= 0.5 for c in categories.values())


def test_an_answer_updates_the_posterior_as_the_scorer_would() -> None:
    import random

    from server.adaptive import LevelSitting, Rules
    from server.measurement import Responses, estimate

    index = _index()
    sitting = LevelSitting(index, Rules(), random.Random(6), _times(index))
    answers: list[tuple[int, bool]] = []
    for n in range(10):
        item = sitting.select()
        assert item is not None
        sitting.answer(item, n % 3 != 0, 24.0)
        answers.append((item, n % 3 != 0))
    names = sorted(index.categories, key=index.categories.__getitem__)
    data = {}
    for k, name in enumerate(names):
        mine = [(i, ok) for i, ok in answers if index.category[i] == k]
        data[name] = Responses(
            correct=np.array([float(ok) for _, ok in mine]),
            a=index.a[[i for i, _ in mine]],
            b=index.b[[i for i, _ in mine]],
            c=index.c[[i for i, _ in mine]],
        )
    expected, expected_overall = estimate(data)
    found, overall = sitting.abilities()
    assert found == expected and overall == expected_overall


def test_calibration_compares_what_was_said_with_how_often_it_was_right() -> None:
    from bench.measurement import calibration

    rows = [(0.85, True)] * 8 + [(0.85, False)] * 2 + [(0.55, True)] * 3 + [(0.55, False)] * 7
    table, error = calibration(rows)
    assert table == [
        {"confidence": "0.5-0.6", "n": 10, "said": 0.55, "right": 0.3},
        {"confidence": "0.8-0.9", "n": 10, "said": 0.85, "right": 0.8},
    ]
    assert error == round((0.25 * 10 + 0.05 * 10) / 20, 4)


def test_the_equal_time_benchmark_runs_both_deliveries_on_the_same_candidates() -> None:
    from bench.measurement import equal_time, fitted_times, generated_bank, true_times

    bank = generated_bank(600, seed=9)
    beta, alpha = true_times(len(bank), 10)
    times, _fit = fitted_times(bank, beta, alpha, 200, 11)
    runs = equal_time(bank, 30, 12, times, beta, alpha)
    for kind in ("linear", "adaptive"):
        run = runs[kind]
        assert run["candidates"] == 30 and run["minutes"] <= 8.0
        assert sum(row["n"] for row in run["calibration"]) == 30 * 5
        assert run["max_exposure"] <= 0.2 + 1e-9 or kind == "linear"
    assert runs["adaptive"]["step_ms"] is not None and runs["linear"]["step_ms"] is None


def test_the_benchmark_gives_longer_sittings_more_items() -> None:
    from bench.measurement import equal_time, fitted_times, generated_bank, true_times

    bank = generated_bank(600, seed=9)
    beta, alpha = true_times(len(bank), 10)
    times, _fit = fitted_times(bank, beta, alpha, 200, 11)
    short = equal_time(bank, 20, 12, times, beta, alpha, 240.0)
    long = equal_time(bank, 20, 12, times, beta, alpha, 960.0)
    for kind in ("linear", "adaptive"):
        assert long[kind]["items_mean"] > 2 * short[kind]["items_mean"]
        assert short[kind]["minutes"] <= 4.0 < long[kind]["minutes"] <= 16.0
