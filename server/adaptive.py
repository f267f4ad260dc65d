"""Adaptive delivery, item by item: maximum information selection and an EAP update after each
answer (the online counterpart of linear-on-the-fly forms; the same 3PL model and grid).

The ability update is incremental: the log-posterior over the grid gains one item's
log-likelihood per answer, so a step costs one pass over the grid, whatever the test length.
"""

from __future__ import annotations

import random

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
