"""How long items take: van der Linden's lognormal response-time model, fitted from sittings.

    log T_ij = beta_i - tau_j + e,   e ~ N(0, 1 / alpha_i^2)

``beta_i`` is item i's time intensity (log seconds for a candidate of average speed), ``alpha_i``
how consistently candidates take that long, ``tau_j`` candidate j's speed. Fitted by alternating
means on the log times (with the candidates' speeds centred on zero to fix the scale); an item
answered too few times keeps the bank's typical intensity, shrunk towards it in proportion to
its data. Form assembly and adaptive stopping use it to fill 8 minutes with what fits, instead
of a fixed count.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

DEFAULT_SECONDS = 24.0  # an item, until there is data: 8 minutes for 20 items
DEFAULT_ALPHA = 2.0  # log-time spread 0.5
PRIOR_WEIGHT = 20  # an item's own data counts for this many answers against the default
MIN_SECONDS, MAX_SECONDS = 2.0, 600.0  # times outside are not answers (a pause, a slip)


@dataclass(frozen=True)
class ItemTime:
    beta: float  # log seconds for a candidate of average speed
    alpha: float  # 1 / spread of log seconds
    answers: int = 0

    def expected_seconds(self, tau: float = 0.0) -> float:
        """The mean time for a candidate of speed ``tau``: exp(beta - tau + 1 / (2 alpha^2))."""
        return math.exp(self.beta - tau + 0.5 / self.alpha**2)


DEFAULT = ItemTime(math.log(DEFAULT_SECONDS), DEFAULT_ALPHA)


def fit(times: Iterable[tuple[str, str, float]], rounds: int = 20) -> dict[str, ItemTime]:
    """Item times from ``(sitting, item, seconds)``: each item answered in a sitting once."""
    logs: dict[tuple[str, str], float] = {}
    for sitting, item, seconds in times:
        if MIN_SECONDS <= seconds <= MAX_SECONDS:
            logs[(sitting, item)] = math.log(seconds)
    if not logs:
        return {}
    by_item: dict[str, list[tuple[str, float]]] = defaultdict(list)
    by_sitting: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for (sitting, item), value in logs.items():
        by_item[item].append((sitting, value))
        by_sitting[sitting].append((item, value))
    tau = dict.fromkeys(by_sitting, 0.0)
    beta = dict.fromkeys(by_item, DEFAULT.beta)
    for _ in range(rounds):
        beta = {i: sum(v + tau[s] for s, v in seen) / len(seen) for i, seen in by_item.items()}
        tau = {s: sum(beta[i] - v for i, v in seen) / len(seen) for s, seen in by_sitting.items()}
        centre = sum(tau.values()) / len(tau)
        tau = {s: t - centre for s, t in tau.items()}
    fitted = {}
    for item, seen in by_item.items():
        n = len(seen)
        residuals = [v - (beta[item] - tau[s]) for s, v in seen]
        spread = math.sqrt(sum(r * r for r in residuals) / n) if n > 1 else 1 / DEFAULT.alpha
        weight = n / (n + PRIOR_WEIGHT)
        fitted[item] = ItemTime(
            beta=weight * beta[item] + (1 - weight) * DEFAULT.beta,
            alpha=1 / max(weight * spread + (1 - weight) / DEFAULT.alpha, 0.05),
            answers=n,
        )
    return fitted


def speed(observed: Iterable[tuple[ItemTime, float]], prior_weight: float = 2.0) -> float:
    """A candidate's speed (tau) from their times so far, shrunk towards the average."""
    total, count = 0.0, 0
    for item, seconds in observed:
        if MIN_SECONDS <= seconds <= MAX_SECONDS:
            total += item.beta - math.log(seconds)
            count += 1
    return total / (count + prior_weight)


def lookup(times: Mapping[str, ItemTime], item_id: str) -> ItemTime:
    return times.get(item_id, DEFAULT)


def load(connection: Any) -> dict[str, ItemTime]:
    """The fitted times stored for the bank's items (``bank times`` writes them)."""
    from server import db

    rows = connection.execute(
        select(db.item_times.c.item_id, db.item_times.c.beta, db.item_times.c.alpha,
               db.item_times.c.answers)
    )  # fmt: skip
    return {str(r.item_id): ItemTime(float(r.beta), float(r.alpha), int(r.answers)) for r in rows}


def save(connection: Any, fitted: Mapping[str, ItemTime], now_ms: int) -> int:
    """Store ``fitted`` for the items the bank has (replacing what was there); how many."""
    from server import db

    known = {str(i) for i in connection.execute(select(db.items.c.id)).scalars()}
    rows = [
        {"item_id": item, "beta": t.beta, "alpha": t.alpha, "answers": t.answers,
         "fitted_ms": now_ms}
        for item, t in fitted.items()
        if item in known
    ]  # fmt: skip
    connection.execute(
        delete(db.item_times).where(db.item_times.c.item_id.in_([r["item_id"] for r in rows]))
    )
    if rows:
        connection.execute(db.item_times.insert(), rows)
    return len(rows)


def items_filling(seconds: float, expected: Iterable[float], categories: int) -> int:
    """How many items (a multiple of ``categories``, at least one each) a typical candidate
    answers in ``seconds``, from the items' expected times."""
    times = sorted(expected)
    typical = times[len(times) // 2] if times else DEFAULT.expected_seconds()
    return max(1, int(seconds / typical) // categories) * categories
