"""Item analysis and calibration from the responses the server has stored.

- ``analyse``: classical item statistics per item: p-value (share correct), point-biserial
  correlation with the rest of the form (share correct on the candidate's other scored items,
  since forms differ), and how often each option was chosen; flagged by the conventional
  thresholds: p outside 0.2 to 0.8, point-biserial under 0.2, and negative (check the key).
- ``calibrate``: marginal maximum likelihood (Bock-Aitkin EM over a quadrature grid) of the
  discrimination a and difficulty b of each free item, its guessing c held at the bank's value.
  The ability distribution is fixed at N(0, 1) and, by default, the live items keep their
  parameters: they anchor the scale, and pretest items are placed on it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from server.irt import Array, p3

NODES = np.linspace(-4.0, 4.0, 41)
_WEIGHTS = np.exp(-0.5 * NODES**2) / np.exp(-0.5 * NODES**2).sum()


@dataclass
class ResponseMatrix:
    """Candidates by items: 1 right, 0 wrong, NaN not on the candidate's form."""

    item_ids: list[str]
    scores: Array
    scored: Array  # bool per item: counts towards the rest score (live, not pretest)
    choices: list[dict[str, str]] = field(default_factory=list)  # per candidate: item -> option

    @classmethod
    def build(
        cls,
        sittings: Sequence[Mapping[str, tuple[bool, str, bool]]],
    ) -> ResponseMatrix:
        """From per-sitting maps of item id to (correct, chosen option, pretest)."""
        ids = sorted({item for sitting in sittings for item in sitting})
        column = {item: n for n, item in enumerate(ids)}
        scores = np.full((len(sittings), len(ids)), np.nan)
        scored = np.ones(len(ids), dtype=bool)
        choices = []
        for row, sitting in enumerate(sittings):
            for item, (correct, _choice, pretest) in sitting.items():
                scores[row, column[item]] = float(correct)
                if pretest:
                    scored[column[item]] = False
            choices.append({item: choice for item, (_c, choice, _p) in sitting.items()})
        return cls(ids, scores, scored, choices)


@dataclass(frozen=True)
class ItemAnalysis:
    item_id: str
    n: int
    p_value: float
    point_biserial: float
    option_rates: dict[str, float]
    flags: tuple[str, ...]


def analyse(matrix: ResponseMatrix, key: Mapping[str, Sequence[str]]) -> list[ItemAnalysis]:
    seen = ~np.isnan(matrix.scores)
    filled = np.nan_to_num(matrix.scores)
    scored_seen = seen & matrix.scored
    right = (filled * matrix.scored).sum(axis=1)
    asked = scored_seen.sum(axis=1)
    results = []
    for column, item_id in enumerate(matrix.item_ids):
        rows = seen[:, column]
        n = int(rows.sum())
        x = filled[rows, column]
        own = matrix.scored[column]
        rest_right = right[rows] - (x if own else 0)
        rest_asked = asked[rows] - (1 if own else 0)
        rest = np.divide(
            rest_right, rest_asked, out=np.zeros_like(rest_right), where=rest_asked > 0
        )
        p = float(x.mean()) if n else math.nan
        r = (
            float(np.corrcoef(x, rest)[0, 1])
            if n > 2 and x.std() > 0 and rest.std() > 0
            else math.nan
        )
        picked: dict[str, int] = {}
        for sitting_row in np.flatnonzero(rows):
            choice = matrix.choices[sitting_row].get(item_id, "") if matrix.choices else ""
            picked[choice or "(none)"] = picked.get(choice or "(none)", 0) + 1
        flags = []
        if not math.isnan(p) and not 0.2 <= p <= 0.8:
            flags.append("p-value outside 0.2-0.8")
        if not math.isnan(r) and r < 0:
            flags.append("negative point-biserial: check the key")
        elif not math.isnan(r) and r < 0.2:
            flags.append("point-biserial under 0.2")
        keyed = set(key.get(item_id, ()))
        for option, count in picked.items():
            if option not in keyed and option != "(none)" and p == p and count / n > p:
                flags.append(f"distractor {option} chosen more than the key")
        results.append(
            ItemAnalysis(
                item_id=item_id,
                n=n,
                p_value=round(p, 4),
                point_biserial=round(r, 4),
                option_rates={k: round(v / n, 4) for k, v in sorted(picked.items())} if n else {},
                flags=tuple(flags),
            )
        )
    return results


@dataclass(frozen=True)
class Calibration:
    a: Array
    b: Array
    iterations: int
    converged: bool


def calibrate(
    matrix: ResponseMatrix,
    a: Array,
    b: Array,
    c: Array,
    free: Array,
    max_iterations: int = 500,
    tolerance: float = 1e-4,
) -> Calibration:
    """Estimate a and b of the ``free`` items by MML-EM; the others stay fixed (anchors)."""
    a, b = a.astype(float).copy(), b.astype(float).copy()
    seen = ~np.isnan(matrix.scores)
    u = np.nan_to_num(matrix.scores)
    converged = False
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 (reported after the loop)
        # E-step: each candidate's posterior over the nodes, given every item on their form.
        p = np.clip(p3(NODES[:, None], a, b, c), 1e-9, 1 - 1e-9)  # nodes x items
        log_p, log_q = np.log(p), np.log1p(-p)
        log_like = (u * seen) @ log_p.T + ((1 - u) * seen) @ log_q.T  # candidates x nodes
        log_post = log_like + np.log(_WEIGHTS)
        log_post -= log_post.max(axis=1, keepdims=True)
        post = np.exp(log_post)
        post /= post.sum(axis=1, keepdims=True)
        n = post.T @ seen  # nodes x items: expected candidates at each node
        r = post.T @ (u * seen)  # nodes x items: expected right answers
        # M-step: one Fisher-scoring step per free item (a and b together), c held.
        star = 1 / (1 + np.exp(-a * (NODES[:, None] - b)))
        prob = c + (1 - c) * star
        slope = (1 - c) * star * (1 - star)
        d_a = slope * (NODES[:, None] - b)
        d_b = -slope * a
        resid = (r - n * prob) / (prob * (1 - prob))
        weight = n / (prob * (1 - prob))
        g_a, g_b = (resid * d_a).sum(0), (resid * d_b).sum(0)
        i_aa, i_bb, i_ab = (
            (weight * d_a**2).sum(0),
            (weight * d_b**2).sum(0),
            (weight * d_a * d_b).sum(0),
        )
        det = i_aa * i_bb - i_ab**2
        ok = free & (det > 1e-12)
        step_a = np.where(ok, (i_bb * g_a - i_ab * g_b) / np.where(ok, det, 1), 0.0)
        step_b = np.where(ok, (i_aa * g_b - i_ab * g_a) / np.where(ok, det, 1), 0.0)
        step_a, step_b = np.clip(step_a, -0.5, 0.5), np.clip(step_b, -0.5, 0.5)
        a = np.clip(a + step_a, 0.2, 4.0)
        b = np.clip(b + step_b, -5.0, 5.0)
        if max(np.abs(step_a).max(initial=0), np.abs(step_b).max(initial=0)) < tolerance:
            converged = True
            break
    return Calibration(a, b, iteration, converged)
