"""Item response theory, vectorised with numpy: the 3PL model, item information, and EAP
ability estimates on a fixed quadrature grid.

The 3PL model here is P(correct | theta) = c + (1 - c) / (1 + exp(-a (theta - b))), with no
1.7 scaling constant (the convention of catsim and most modern software), theta on a standard
normal scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

GRID = np.linspace(-5.0, 5.0, 81)


def p3(theta: Array | float, a: Array | float, b: Array | float, c: Array | float) -> Array:
    """Probability of a correct answer; broadcasts theta (rows) against items (columns)."""
    return np.asarray(c + (1.0 - c) / (1.0 + np.exp(-a * (np.asarray(theta) - b))))


def information(
    theta: Array | float, a: Array | float, b: Array | float, c: Array | float
) -> Array:
    """Fisher information of each item at theta: a^2 (P - c)^2 (1 - P) / ((1 - c)^2 P)."""
    p = p3(theta, a, b, c)
    return np.asarray(a**2 * (p - c) ** 2 * (1.0 - p) / ((1.0 - c) ** 2 * p))


def log_likelihood(grid: Array, correct: Array, a: Array, b: Array, c: Array) -> Array:
    """log P(responses | theta) at each grid point; ``correct`` is 0/1 per item."""
    if correct.size == 0:
        return np.zeros_like(grid)
    p = p3(grid[:, None], a, b, c)
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.asarray((correct * np.log(p) + (1 - correct) * np.log1p(-p)).sum(axis=1))


@dataclass(frozen=True)
class Estimate:
    theta: float
    se: float


def eap(
    correct: Array,
    a: Array,
    b: Array,
    c: Array,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    grid: Array = GRID,
) -> Estimate:
    """Expected a posteriori ability and its posterior standard deviation (normal prior)."""
    log_post = log_likelihood(grid, correct, a, b, c) - 0.5 * ((grid - prior_mean) / prior_sd) ** 2
    weights = np.exp(log_post - log_post.max())
    weights /= weights.sum()
    mean = float(weights @ grid)
    return Estimate(mean, float(np.sqrt(weights @ (grid - mean) ** 2)))
