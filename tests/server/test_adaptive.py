"""Adaptive delivery: maximum information selection and the incremental EAP update."""

from __future__ import annotations

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
