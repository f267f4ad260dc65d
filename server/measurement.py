"""Ability estimates for a sitting: one ability per category and an overall ability, from a
higher-order model that lets the four categories borrow strength from each other.

With four to six items per category, a category estimate on its own is noisy. The model:

    theta_k = g + u_k,    g ~ N(0, rho),    u_k ~ N(0, 1 - rho)   (independent)

so each category ability is standard normal, any two correlate rho, and the shared part g carries
what the other categories say about this one. The posterior is computed exactly on a grid over
g and each u_k (no sampling, no optimiser): the same responses always give the same numbers.

The overall ability is the mean of the four category abilities, rescaled to unit variance in the
population, so the same cut points apply to it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from server.irt import Array
from shared.models import LEVELS

# Documented cut points on the ability scale (population N(0, 1)): below -0.5 is beginning
# (about 31% of candidates), from 0.75 accomplished (about 23%), developing between.
CUTS = (-0.5, 0.75)
RHO = 0.7  # assumed correlation between category abilities
_Z = np.linspace(-5.0, 5.0, 33)
_LOG_PRIOR = -0.5 * _Z**2


@dataclass(frozen=True)
class Responses:
    """One category's scored items: 0/1 and the items' 3PL parameters."""

    correct: Array
    a: Array
    b: Array
    c: Array


@dataclass(frozen=True)
class Ability:
    theta: float
    se: float
    level: str
    confidence: float  # posterior probability that the level is right
    level_probabilities: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {
            "theta": self.theta,
            "se": self.se,
            "level": self.level,
            "confidence": self.confidence,
            "level_probabilities": dict(self.level_probabilities),
        }


def level_of(theta: float, cuts: tuple[float, float] = CUTS) -> str:
    return LEVELS[int(theta >= cuts[0]) + int(theta >= cuts[1])]


def _ability(mean: float, var: float, masses: list[float], cuts: tuple[float, float]) -> Ability:
    level = level_of(mean, cuts)
    total = sum(masses) or 1.0
    probabilities = {
        name: round(mass / total, 4) for name, mass in zip(LEVELS, masses, strict=True)
    }
    return Ability(
        theta=round(mean, 4),
        se=round(math.sqrt(max(var, 0.0)), 4),
        level=level,
        confidence=probabilities[level],
        level_probabilities=probabilities,
    )


def _normal_cdf(x: Array) -> Array:
    return np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x.tolist()])


@lru_cache(maxsize=8)
def _grids(rho: float, cuts: tuple[float, float]) -> tuple[Array, Array, Array, Array]:
    """The g and u grids, every g + u on them, and for each cut the share of each grid cell
    (width of one u step, centred on g + u) that lies below the cut."""
    g, u = math.sqrt(rho) * _Z, math.sqrt(1.0 - rho) * _Z
    values = np.asarray((g[:, None] + u[None, :]).ravel(), dtype=np.float64)
    step = u[1] - u[0]
    below = np.stack([np.clip((cut - values) / step + 0.5, 0.0, 1.0) for cut in cuts])
    return g, u, values, below.reshape(len(cuts), len(g), len(u))


def log_likelihoods(correct: Array, a: Array, b: Array, c: Array, rho: float = RHO) -> Array:
    """Each answer's log-likelihood at every point g + u of the grid: (points, answers).
    The 3PL at every g + u: exp(-a (g + u - b)) is exp(-a g) exp(-a (u - b)), so the
    exponentials are taken on each grid (33 points) and multiplied out, not on all 1,089."""
    g, u, values, _below = _grids(rho, CUTS)
    spread = np.exp(-np.outer(g, a))[:, None, :] * np.exp(-(u[:, None] - b) * a)[None, :, :]
    p = c + (1.0 - c) / (1.0 + spread.reshape(values.size, a.size))
    return np.asarray(np.log(np.clip(np.where(correct > 0, p, 1.0 - p), 1e-12, None)))


def estimate(
    categories: Mapping[str, Responses],
    rho: float = RHO,
    cuts: tuple[float, float] = CUTS,
) -> tuple[dict[str, Ability], Ability]:
    """Category and overall abilities with standard errors and level confidences."""
    names = list(categories)
    # One pass over every item at every grid point, then summed per category.
    correct = np.concatenate([categories[n].correct for n in names])
    a = np.concatenate([categories[n].a for n in names])
    b = np.concatenate([categories[n].b for n in names])
    c = np.concatenate([categories[n].c for n in names])
    owner = np.repeat(np.arange(len(names)), [categories[n].correct.size for n in names])
    terms = log_likelihoods(correct, a, b, c, rho)
    indicator = (owner[:, None] == np.arange(len(names))[None, :]).astype(float)
    return from_tables(names, terms @ indicator, rho, cuts)


def _posterior(log_lik: Array, rho: float) -> tuple[Array, list[tuple[Array, Array, Array]]]:
    """The posterior over g, and for each category p(u_k | g, data_k) with its mean and
    variance given g."""
    g, u, _values, _below = _grids(rho, CUTS)
    log_post_g = _LOG_PRIOR.copy()
    conditionals = []
    for k in range(log_lik.shape[1]):
        joint = log_lik[:, k].reshape(len(g), len(u)) + _LOG_PRIOR[None, :]
        top = joint.max(axis=1, keepdims=True)
        weights = np.exp(joint - top)
        marginal = weights.sum(axis=1, keepdims=True)
        log_post_g += (top + np.log(marginal)).ravel()
        given_g = weights / marginal  # p(u_k | g, data_k)
        mean_u = given_g @ u
        conditionals.append((given_g, mean_u, given_g @ u**2 - mean_u**2))
    w = np.exp(log_post_g - log_post_g.max())
    return w / w.sum(), conditionals


def cell_masses(log_lik: Array, rho: float = RHO) -> Array:
    """Each category's posterior mass on every grid cell (categories x points, the cells'
    abilities being ``grid_values``): where its ability may be."""
    w, conditionals = _posterior(log_lik, rho)
    return np.stack([(w[:, None] * given_g).ravel() for given_g, _m, _v in conditionals])


def grid_values(rho: float = RHO) -> Array:
    """The ability g + u at every cell of the grid."""
    return _grids(rho, CUTS)[2]


def from_tables(
    names: list[str], log_lik: Array, rho: float = RHO, cuts: tuple[float, float] = CUTS
) -> tuple[dict[str, Ability], Ability]:
    """The abilities from each category's summed log-likelihood over the grid (points x
    categories): what ``estimate`` computes once its answers are summed, and what an
    adaptive sitting keeps, one answer added at a time."""
    g, _u, _values, below = _grids(rho, cuts)
    w, conditionals = _posterior(log_lik, rho)
    per_category = dict(zip(names, conditionals, strict=True))

    abilities: dict[str, Ability] = {}
    for name, (given_g, mean_u, var_u) in per_category.items():
        cond_mean = g + mean_u
        mean = float(w @ cond_mean)
        var = float(w @ (var_u + cond_mean**2)) - mean**2
        mass = w[:, None] * given_g
        low, high = float((mass * below[0]).sum()), float((mass * below[1]).sum())
        masses = [low, high - low, 1.0 - high]
        abilities[name] = _ability(mean, var, masses, cuts)

    count = max(len(per_category), 1)
    scale = math.sqrt(rho + (1.0 - rho) / count)  # sd of the mean of the category abilities
    mean_bar = g + sum((m for _, m, _ in per_category.values()), np.zeros_like(g)) / count
    var_bar = sum((v for _, _, v in per_category.values()), np.zeros_like(g)) / count**2
    mean = float(w @ mean_bar) / scale
    var = (float(w @ (var_bar + mean_bar**2)) - float(w @ mean_bar) ** 2) / scale**2
    sd_bar = np.sqrt(np.maximum(var_bar, 1e-12))
    under_low = _normal_cdf((cuts[0] * scale - mean_bar) / sd_bar)
    under_high = _normal_cdf((cuts[1] * scale - mean_bar) / sd_bar)
    masses = [
        float(w @ under_low),
        float(w @ (under_high - under_low)),
        float(w @ (1.0 - under_high)),
    ]
    return abilities, _ability(mean, var, masses, cuts)
