"""Adaptive delivery, item by item: maximum information selection and an EAP update after each
answer (the online counterpart of linear-on-the-fly forms; the same 3PL model and grid).

The ability update is incremental: the log-posterior over the grid gains one item's
log-likelihood per answer, so a step costs one pass over the grid, whatever the test length.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from server.irt import GRID, Array, Estimate, information, p3


class AdaptiveTest:
    def __init__(
        self,
        a: Array,
        b: Array,
        c: Array,
        rng: random.Random | None = None,
        randomesque: int = 1,
        prior_mean: float = 0.0,
        prior_sd: float = 1.0,
        grid: Array = GRID,
    ) -> None:
        self.a, self.b, self.c = a, b, c
        self.rng = rng or random.Random()  # noqa: S311 (exposure spread, not a secret)
        self.randomesque = randomesque
        self.grid = grid
        self.available = np.ones(a.size, dtype=bool)
        self.log_posterior = -0.5 * ((grid - prior_mean) / prior_sd) ** 2
        self.estimate = self._estimate()
        self.administered: list[int] = []

    def _estimate(self) -> Estimate:
        weights = np.exp(self.log_posterior - self.log_posterior.max())
        weights /= weights.sum()
        mean = float(weights @ self.grid)
        return Estimate(mean, float(np.sqrt(weights @ (self.grid - mean) ** 2)))

    def select(self) -> int:
        """The most informative item not yet given (randomly among the top few if asked)."""
        info = information(self.estimate.theta, self.a, self.b, self.c)
        info[~self.available] = -1.0
        if self.randomesque <= 1:
            return int(np.argmax(info))
        top = np.argpartition(-info, self.randomesque - 1)[: self.randomesque]
        return int(self.rng.choice(sorted(top.tolist())))

    def answer(self, item: int, correct: bool) -> Estimate:
        """Record an answer to ``item`` and return the updated ability estimate."""
        probabilities = np.clip(
            p3(self.grid, self.a[item], self.b[item], self.c[item]), 1e-12, 1 - 1e-12
        )
        self.log_posterior = self.log_posterior + (
            np.log(probabilities) if correct else np.log1p(-probabilities)
        )
        self.available[item] = False
        self.administered.append(item)
        self.estimate = self._estimate()
        return self.estimate


# -- a sitting of the higher-order model, to levels --------------------------------------------


@dataclass(frozen=True)
class Rules:
    """How an adaptive sitting chooses and when it stops."""

    seconds: float = 480.0  # the sitting's time (the server's clock governs)
    min_per_category: int = 3  # every category is measured, whatever the others say
    max_per_skill: int = 2
    confidence: float = 0.9  # a category's level is decided at this posterior probability...
    overall_confidence: float = 0.95  # ...and the overall level at this one
    max_exposure: float = 0.2  # no item on more than this share of sittings
    randomesque: int = 3  # the next item is one of this many best, at random
    cut_width: float = 0.6  # an ability this far from a cut still decides the level


class LevelSitting:
    """One candidate's adaptive sitting under the higher-order model the scorer uses.

    After each answer the category's log-likelihood over the (g, u) grid gains that item's, so
    the posterior of every category and of the overall level is exact at every step. The next
    item comes from the category whose level is least decided (each category first gets
    ``min_per_category``; the overall level's doubt goes to the category that adds most to
    it), and within it the item with the most information where the level is decided: Fisher
    information over the category's posterior, weighted towards the cut points, per expected
    second of this candidate's time. Items over the exposure ceiling, already seen, enemies of
    one given, or of a skill used ``max_per_skill`` times are not chosen. The sitting stops
    when every level is decided or when no item is expected to fit in the time left.
    """

    def __init__(
        self,
        index: Any,
        rules: Rules,
        rng: random.Random,
        times: list[Any],
        exposure: np.ndarray | None = None,
        sittings: int = 0,
        excluded: np.ndarray | None = None,
    ) -> None:
        from server import measurement

        self.index, self.rules, self.rng, self.times = index, rules, rng, times
        self.names = sorted(index.categories, key=index.categories.__getitem__)
        self.tables = np.zeros((measurement.grid_values().size, len(self.names)))
        self.values = measurement.grid_values()
        # The cells' abilities binned onto a coarse line, to weigh information quickly.
        self.line = np.linspace(-4.0, 4.0, 41)
        self.bins = np.clip(np.rint((self.values + 4.0) / 0.2), 0, 40).astype(int)
        cuts = np.array(measurement.CUTS)
        self.near_cut = np.exp(
            -0.5 * ((self.line[:, None] - cuts[None, :]) / rules.cut_width) ** 2
        ).sum(axis=1)
        counts = exposure if exposure is not None else np.zeros(len(index.items))
        self.open = index.live.copy()
        if excluded is not None:
            self.open &= ~excluded
        if sittings >= 1 / rules.max_exposure:
            self.open &= (counts + 1) / (sittings + 1) <= rules.max_exposure
        self.given: list[int] = []
        self.answers: list[bool] = []
        self.seconds: list[float] = []
        self.per_category = np.zeros(len(self.names), dtype=int)
        self.skill_used = np.zeros(index.skill_count, dtype=int)

    @property
    def spent(self) -> float:
        return float(sum(self.seconds))

    def abilities(self) -> tuple[dict[str, Any], Any]:
        from server import measurement

        return measurement.from_tables(self.names, self.tables)

    def decided(self) -> bool:
        categories, overall = self.abilities()
        if (self.per_category < self.rules.min_per_category).any():
            return False
        return overall.confidence >= self.rules.overall_confidence and all(
            ability.confidence >= self.rules.confidence for ability in categories.values()
        )

    def _speed(self) -> float:
        from server import timing

        return timing.speed(zip((self.times[i] for i in self.given), self.seconds, strict=True))

    def select(self) -> int | None:
        """The next item, or None when the sitting should end (decided, or out of time)."""
        if self.decided():
            return None
        candidates = self._candidates()
        if candidates.size == 0:
            return None
        tau = self._speed()
        expected = np.array([self.times[i].expected_seconds(tau) for i in candidates])
        fits = expected <= self.rules.seconds - self.spent
        if not fits.any():
            return None
        candidates, expected = candidates[fits], expected[fits]
        category = self._category(candidates)
        mine = self.index.category[candidates] == category
        candidates, expected = candidates[mine], expected[mine]
        value = self._value(category, candidates) / expected
        top = min(self.rules.randomesque, candidates.size)
        best = candidates[np.argpartition(-value, top - 1)[:top]]
        return int(self.rng.choice(sorted(best.tolist())))

    def _candidates(self) -> np.ndarray:
        allowed = self.open.copy()
        allowed[self.given] = False
        for item in self.given:
            allowed[self.index.enemies[item]] = False
        allowed &= self.skill_used[self.index.skill] < self.rules.max_per_skill
        return np.flatnonzero(allowed)

    def _category(self, candidates: np.ndarray) -> int:
        """The category to measure next: one still short of its minimum, else the one whose
        level, or whose share of the overall level, is least decided."""
        present = np.unique(self.index.category[candidates])
        short = [k for k in present if self.per_category[k] < self.rules.min_per_category]
        if short:
            return int(min(short, key=lambda k: (self.per_category[k], self.rng.random())))
        categories, overall = self.abilities()
        doubt = np.array([1.0 - categories[name].confidence for name in self.names])
        spread = np.array([categories[name].se ** 2 for name in self.names])
        urgency = doubt + (1.0 - overall.confidence) * spread / spread.sum()
        return int(max(present, key=lambda k: urgency[k]))

    def _value(self, category: int, candidates: np.ndarray) -> np.ndarray:
        """Information where the category's level is decided: over its posterior, weighted
        towards the cuts."""
        from server import measurement

        mass = measurement.cell_masses(self.tables)[category]
        line = np.bincount(self.bins, weights=mass, minlength=self.line.size)
        weight = line * self.near_cut
        info = information(
            self.line[:, None],
            self.index.a[candidates],
            self.index.b[candidates],
            self.index.c[candidates],
        )
        return np.asarray(weight @ info)

    def answer(self, item: int, correct: bool, seconds: float) -> None:
        from server import measurement

        k = int(self.index.category[item])
        row = measurement.log_likelihoods(
            np.array([1.0 if correct else 0.0]),
            self.index.a[item : item + 1],
            self.index.b[item : item + 1],
            self.index.c[item : item + 1],
        )
        self.tables[:, k] += row[:, 0]
        self.given.append(item)
        self.answers.append(correct)
        self.seconds.append(seconds)
        self.per_category[k] += 1
        self.skill_used[self.index.skill[item]] += 1
