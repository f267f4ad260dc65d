"""Adaptive delivery of an online sitting: the server chooses each next item as the answers come.

The client sends each answer, signed, as it is given (``POST /sittings/{id}/next``) and receives
the next item. The server's clock governs: an answer that arrives after the sitting's time (and
a few seconds' grace for one in flight) is not recorded and the adaptive part ends. Every item
served and every answer received is a row of ``adaptive_steps``; the choice is rebuilt from those
rows on each request (server.adaptive.LevelSitting, under the scorer's model), so any worker can
serve the next step and a repeated request gets the same answer back: a position is inserted
once, whoever asks first.

The sealed package of an adaptive sitting still holds a linear form. If the connection drops the
client continues on it ("fallback" in its log); the adaptive pool never holds that form's items,
so nothing is shown twice. Scoring then takes, in the order the candidate met them, the items
served and the fallback items, each counted once the candidate answered it or moved past it
(``sitting_form``, ``reached``); for a served item the answer the server received is the one
scored, and a log that says otherwise is flagged.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, RowMapping, bindparam, select

from server import db, timing
from server.adaptive import LevelSitting, Rules
from server.assembly import BankIndex, Blueprint, opaque_id, package_items
from server.bank.model import BankItem
from server.bank.store import cached_items, exposed_from
from server.context import Context
from server.errors import ApiError
from server.invitations import assessment_of, own_sitting, sitting_ms
from server.packages import count_exposure, exposure_counts, seen
from shared import canonical
from shared.errors import MalformedData
from shared.events import Event

# An answer sent just before the time ran out may arrive this much after it and still count.
STEP_GRACE_MS = 5_000
MAX_STEPS = 500  # no adaptive sitting is longer; a request past it is refused
# A sitting gets at most this many questions per typical question's time (24 s): twice what
# a candidate answering at the usual pace gets, so a client that answers at once (a script
# harvesting the bank) sees no more than that (40 in 8 minutes).
MAX_PACE = 2.0


@dataclass(frozen=True)
class Step:
    position: int
    entry: dict[str, Any] | None
    served_ms: int
    answer: list[str] | None
    answered_ms: int | None
    end_reason: str | None

    @classmethod
    def from_row(cls, row: RowMapping) -> Step:
        return cls(
            position=int(row["position"]),
            entry=canonical.loads(row["entry"]) if row["entry"] else None,
            served_ms=int(row["served_ms"]),
            answer=list(canonical.loads(row["answer"])) if row["answer"] is not None else None,
            answered_ms=row["answered_ms"],
            end_reason=row["end_reason"],
        )


_STEPS = (
    select(db.adaptive_steps)
    .where(db.adaptive_steps.c.sitting_id == bindparam("sitting"))
    .order_by(db.adaptive_steps.c.position)
)


def steps(connection: Connection, sitting_id: str) -> list[Step]:
    return [
        Step.from_row(row) for row in connection.execute(_STEPS, {"sitting": sitting_id}).mappings()
    ]


def _request(raw: bytes) -> tuple[int, list[str]] | None:
    """The answer a step request carries (its position and the presented option ids), or None
    for a request that only asks for the item on screen."""
    body = canonical.loads(raw) if raw else {}
    if not isinstance(body, dict) or not set(body) <= {"position", "options"}:
        raise MalformedData("A step request is the answered position and the chosen options.")
    if not body:
        return None
    position, options = body.get("position"), body.get("options")
    if (
        type(position) is not int
        or not 0 <= position < MAX_STEPS
        or not isinstance(options, list)
        or len(options) > 16
        or not all(isinstance(o, str) and len(o) <= 64 for o in options)
    ):
        raise MalformedData("A step request is the answered position and the chosen options.")
    return position, list(dict.fromkeys(options))


def _checked(entry: Mapping[str, Any], options: list[str], multiple: bool) -> list[str]:
    shown = [presented for presented, _ in entry["options"]]
    if any(option not in shown for option in options):
        raise MalformedData("The answer names an option that is not in its question.")
    if not multiple and len(options) > 1:
        raise MalformedData("This question takes one option.")
    return sorted(options, key=shown.index)


def step(ctx: Context, device_id: str, sitting_id: str, raw: bytes) -> dict[str, Any]:
    """Record the answer the request carries (if any) and return the item now on screen: the
    next one, chosen now if it was not yet, or that the adaptive part has ended and why."""
    answer = _request(raw)
    now = ctx.now_ms()
    with ctx.reader.connect() as connection:
        sitting = own_sitting(connection, device_id, sitting_id)
        assessment = assessment_of(connection, sitting)
        blueprint = Blueprint.from_json(canonical.loads(assessment["blueprint"]))
        _refuse_unless_running(sitting)
        allowed = sitting_ms(assessment, sitting)
        ends = int(sitting["started_ms"]) + allowed
        done = steps(connection, sitting_id)
        bank = cached_items(ctx, connection)
    ended = next((s for s in done if s.end_reason is not None), None)
    if ended is not None:  # the adaptive part is over: every request hears so
        return _shown(ended, bank, ends)
    if answer is not None:
        position, options = answer
        if position >= len(done) or done[position].entry is None:
            raise ApiError(409, "not_served", "That question was not given in this sitting.")
        given = done[position]
        assert given.entry is not None
        options = _checked(given.entry, options, bank[given.entry["item"]].multiple)
        if given.answer is not None:
            if given.answer != options:
                raise _answered_already()
        elif now > ends + STEP_GRACE_MS:
            return _end(ctx, sitting_id, len(done), "time_up", now, ends, bank)
        else:
            done[position] = _record(ctx, sitting_id, given, options, now)
    current = next((s for s in done if s.answer is None), None)
    if current is not None:
        return _shown(current, bank, ends)
    if now >= ends:
        return _end(ctx, sitting_id, len(done), "time_up", now, ends, bank)
    if len(done) >= most_items(allowed):
        return _end(ctx, sitting_id, len(done), "exhausted", now, ends, bank)
    chosen, reason = _choose(ctx, sitting, assessment, blueprint, done, bank, now, ends)
    if chosen is None:
        return _end(ctx, sitting_id, len(done), reason, now, ends, bank)
    entry = _entry(ctx.rng, bank[chosen], done)
    values = {"item_id": chosen, "entry": canonical.to_text(entry)}
    raced = _place(ctx, sitting_id, len(done), now, values, assessment["id"], bank, ends)
    return raced or _shown(Step(len(done), entry, now, None, None, None), bank, ends)


def most_items(allowed_ms: int) -> int:
    """The most questions an adaptive sitting of ``allowed_ms`` is given."""
    return min(MAX_STEPS, math.ceil(MAX_PACE * allowed_ms / 1000 / timing.DEFAULT_SECONDS))


def _refuse_unless_running(sitting: RowMapping) -> None:
    if not adaptive(sitting):
        raise ApiError(
            409, "not_adaptive", "This sitting's questions are all in its package; none are sent."
        )
    if sitting["state"] == "scored":
        raise ApiError(409, "already_submitted", "This sitting has already been submitted.")
    if sitting["started_ms"] is None or sitting["state"] != "started":
        raise ApiError(409, "not_started", "Start this exam before asking for its questions.")


def _answered_already() -> ApiError:
    return ApiError(
        409, "already_answered", "That question was answered already; answers are final."
    )


def _record(ctx: Context, sitting_id: str, given: Step, options: list[str], now: int) -> Step:
    """Store the answer unless one was stored meanwhile; the answer that stands."""
    with ctx.engine.begin() as connection:
        _still_running(connection, sitting_id)
        stored = connection.execute(
            db.adaptive_steps.update()
            .where(
                db.adaptive_steps.c.sitting_id == sitting_id,
                db.adaptive_steps.c.position == given.position,
                db.adaptive_steps.c.answer.is_(None),
            )
            .values(answer=canonical.to_text(options), answered_ms=now)
        )
        if stored.rowcount == 0:
            standing = steps(connection, sitting_id)[given.position]
            if standing.answer != options:
                raise _answered_already()
            return standing
    return Step(given.position, given.entry, given.served_ms, options, now, None)


def _end(
    ctx: Context,
    sitting_id: str,
    position: int,
    reason: str,
    now: int,
    ends: int,
    bank: Mapping[str, BankItem],
) -> dict[str, Any]:
    """Close the adaptive part at ``position`` (once: a later request reads the same end; if a
    concurrent request served an item there first, that item stands)."""
    raced = _place(ctx, sitting_id, position, now, {"end_reason": reason}, None, bank, ends)
    return raced or {"done": True, "reason": reason, "position": position, "ends_ms": ends}


def _place(
    ctx: Context,
    sitting_id: str,
    position: int,
    now: int,
    values: dict[str, Any],
    assessment_id: str | None,
    bank: Mapping[str, BankItem],
    ends: int,
) -> dict[str, Any] | None:
    """Write the row at ``position`` (an item served, counted as shown, or the end) unless a
    concurrent request wrote one there first: None, or what that row shows."""
    with ctx.engine.begin() as connection:
        _still_running(connection, sitting_id)
        row = {"sitting_id": sitting_id, "position": position, "served_ms": now, **values}
        if db.insert_if_absent(connection, "adaptive_steps", row, "position") is None:
            return _shown(steps(connection, sitting_id)[position], bank, ends)
        if assessment_id is not None:
            count_exposure(connection, assessment_id, [values["item_id"]], new_form=False)
    return None


def _still_running(connection: Connection, sitting_id: str) -> None:
    """Inside a write: the sitting is still running (its row locked till the commit, so a
    submission scored meanwhile waits, and one scored before refuses this write)."""
    held = connection.execute(
        db.sittings.update()
        .where(db.sittings.c.id == sitting_id, db.sittings.c.state == "started")
        .values(state=db.sittings.c.state)
    )
    if held.rowcount == 0:
        raise ApiError(409, "already_submitted", "This sitting has already been submitted.")


def _shown(step: Step, bank: Mapping[str, BankItem], ends: int) -> dict[str, Any]:
    if step.end_reason is not None or step.entry is None:
        return {
            "done": True,
            "reason": step.end_reason or "time_up",
            "position": step.position,
            "ends_ms": ends,
        }
    (item,) = package_items([step.entry], dict(bank))
    return {"done": False, "position": step.position, "item": item, "ends_ms": ends}


def _entry(rng: random.Random, item: BankItem, done: Sequence[Step]) -> dict[str, Any]:
    """The form entry of a served item: presented ids unlike any given in this sitting."""
    taken = {s.entry["id"] for s in done if s.entry} | {
        presented for s in done if s.entry for presented, _ in s.entry["options"]
    }
    options = list(item.options)
    rng.shuffle(options)
    return {
        "item": item.id,
        "id": opaque_id(rng, taken),
        "options": [[opaque_id(rng, taken), option.id] for option in options],
        "pretest": False,
    }


def correct(item: BankItem, entry: Mapping[str, Any], options: Sequence[str]) -> bool:
    to_bank = dict(entry["options"])
    return {to_bank[o] for o in options if o in to_bank} == set(item.key)


@dataclass(frozen=True)
class _Pool:
    """The live items of a set of categories as arrays, with each item's time parameters."""

    index: BankIndex
    times: list[timing.ItemTime]


def _pool(
    ctx: Context, connection: Connection, bank: dict[str, BankItem], categories: frozenset[str]
) -> _Pool:
    """Built once per bank as cached (``cached_items``: its version moves when items or their
    fitted times change) and set of categories."""
    held = ctx.bank_index
    if held is None or held[0] is not bank:
        held = (bank, {})
        ctx.bank_index = held
    pool = held[1].get(categories)
    if pool is None:
        live = [i for i in exposed_from(bank) if i.status == "live" and i.category in categories]
        index = BankIndex(live)
        fitted = timing.load(connection)
        pool = held[1][categories] = _Pool(
            index, [timing.lookup(fitted, item.id) for item in index.items]
        )
    return pool


def _choose(
    ctx: Context,
    sitting: RowMapping,
    assessment: RowMapping,
    blueprint: Blueprint,
    done: Sequence[Step],
    bank: dict[str, BankItem],
    now: int,
    ends: int,
) -> tuple[str | None, str]:
    """The next item for the sitting, or None and why the adaptive part ends."""
    with ctx.reader.connect() as connection:
        pool = _pool(ctx, connection, bank, frozenset(blueprint.per_category))
        if not pool.index.items:  # the assessment's categories have no live item (all retired)
            return None, "exhausted"
        counts = exposure_counts(connection, assessment["id"])
        excluded_ids = seen(connection, sitting) | {
            entry["item"] for entry in canonical.loads(sitting["form"] or "[]")
        }
        sittings = int(assessment["forms_issued"])
    index, times = pool.index, pool.times
    exposure = np.array([counts.get(item.id, 0) for item in index.items], dtype=float)
    excluded = np.array([item.id in excluded_ids for item in index.items], dtype=bool)
    answered = [(s, index.position.get(s.entry["item"])) for s in done if s.entry]
    spent = sum(((s.answered_ms or s.served_ms) - s.served_ms) / 1000 for s, _ in answered)
    rules = Rules(
        seconds=spent + max(0.0, (ends - now) / 1000),
        max_per_skill=blueprint.max_per_skill,
        max_exposure=blueprint.max_exposure,
    )
    draw = random.Random(ctx.rng.getrandbits(64))  # noqa: S311 (exposure spread, not a secret)
    level = LevelSitting(index, rules, draw, times, exposure, sittings, excluded)
    for s, position in answered:
        if position is None:  # retired since it was served: it still excludes, not informs
            continue
        assert s.entry is not None and s.answer is not None
        seconds = ((s.answered_ms or s.served_ms) - s.served_ms) / 1000
        level.answer(position, correct(bank[s.entry["item"]], s.entry, s.answer), seconds)
    chosen = level.select()
    if chosen is not None:
        return index.items[chosen].id, ""
    return None, "decided" if level.decided() else "exhausted"


# -- scoring a sitting that was delivered adaptively ------------------------------------------

# A fallback form is scored like a linear form as long as what fits in the time left after the
# server last heard from the client, less this: the request that failed (the client waits 20 s)
# and about one question's time on screen before it.
FALLBACK_GRACE_S = 45.0
# No one answers questions faster than this for long: answers on the fallback form beyond what
# this pace allows in the time after the server last heard from the client do not count.
QUICKEST_S = 8.0


def adaptive(sitting: RowMapping) -> bool:
    """Whether the sitting was delivered adaptively: as its package says (pinned when it was
    prepared, whatever the assessment says later)."""
    if sitting["offline"] or not sitting["package"] or '"adaptive":true' not in sitting["package"]:
        return False  # (canonical JSON: the flag reads so when set; most packages are not read)
    header = canonical.loads(sitting["package"]).get("body", {}).get("header", {})
    return isinstance(header, dict) and header.get("adaptive") is True


@dataclass(frozen=True)
class Delivered:
    """What scoring reads of an adaptive sitting."""

    form: list[dict[str, Any]]  # the items in the order the log met them
    scored: list[dict[str, Any]]  # the items that count
    received: dict[str, list[str]]  # presented id -> the answer the server received in time
    unlogged: int  # served items the server received an answer to, missing from the log
    late: frozenset[str]  # served items whose answer in the log does not count (never received)
    offline: int = 0  # fallback items answered with no server to time them


def sitting_form(
    connection: Connection,
    sitting: RowMapping,
    log: Sequence[Event],
    ends_ms: int,
) -> Delivered:
    """The sitting as the server knows it, checked against the log.

    The log must name the served items at their positions 0, 1, ... once each and in order,
    before any fallback; a log naming others is refused. Every served item the server received
    an answer to counts (an empty answer is a skip), logged or not; so does every one the log
    shows, as linear forms count an unanswered item, its answer from the log unless the server
    had ended the sitting for time before it came (then it counts unanswered). After a fallback
    the package's form counts like a linear form: as far as the candidate got, but no further
    than a quick candidate could go in the time after the server last heard from the client,
    and at least as far as this candidate's pace would have taken them in that time."""
    every = steps(connection, sitting["id"])
    rows = [s for s in every if s.entry is not None]
    timed_out = any(s.end_reason == "time_up" for s in every)
    positions = [event.data["position"] for event in log if event.type == "served"]
    first_fallback = next((n for n, e in enumerate(log) if e.type == "fallback"), len(log))
    late_served = any(e.type == "served" for e in log[first_fallback:])
    if (
        positions != list(range(len(positions)))
        or len(positions) > len(rows)
        or late_served
        or any(
            e.data["item"] != (rows[e.data["position"]].entry or {}).get("id")
            for e in log
            if e.type == "served"
        )
    ):
        raise MalformedData(
            "The log's questions are not the ones the server gave, in the order it gave them."
        )
    shown = [s.entry for s in rows[: len(positions)]]
    fallback = list(canonical.loads(sitting["form"] or "[]")) if first_fallback < len(log) else []
    form = [dict(e) for e in shown if e is not None] + fallback
    received = {s.entry["id"]: list(s.answer) for s in rows if s.entry and s.answer is not None}
    logged = {e["id"] for e in form}
    answered = {e.data["item"] for e in log if e.type == "answer" and e.data["options"]}
    passed = {e.data["from"] for e in log if e.type == "advance"}
    scored: list[dict[str, Any]] = []
    late: set[str] = set()
    for s in rows:
        assert s.entry is not None
        if s.answer is not None or s.entry["id"] in logged:
            scored.append(dict(s.entry))
            if s.answer is None and timed_out:
                late.add(s.entry["id"])  # on screen when the server's time ran out
        else:
            late.add(s.entry["id"])  # served, never shown: the reply was lost
    offline = 0
    if fallback:
        last_heard = max(
            [sitting["started_ms"] or 0] + [max(s.served_ms, s.answered_ms or 0) for s in rows]
        )
        downtime = sum(
            int(e.data["downtime_ms"]) for e in log[first_fallback:] if e.type == "resumed"
        )
        window_s = max(0.0, (ends_ms - last_heard) / 1000)
        reached = sum(1 for e in fallback if e["id"] in answered or e["id"] in passed)
        reached = min(reached, math.floor((window_s + STEP_GRACE_MS / 1000) / QUICKEST_S))
        pace = _pace(rows)
        left = window_s - downtime / 1000 - FALLBACK_GRACE_S
        fitted = timing.load(connection)
        fits, spent = 0, 0.0
        for entry in fallback:
            expected = timing.lookup(fitted, entry["item"]).expected_seconds()
            spent += max(expected, pace or 0.0)
            if spent > left:
                break
            fits += 1
        counted = fallback[: max(reached, fits)]
        scored.extend(counted)
        offline = sum(1 for e in counted if e["id"] in answered)
    if not any(not e.get("pretest") for e in scored):  # nothing counts: the first item met does
        package_form = list(canonical.loads(sitting["form"] or "[]"))
        first = next((e for e in form + package_form if not e.get("pretest")), None)
        scored = [dict(first)] if first is not None else scored
    unlogged = sum(
        1 for s in rows if s.entry and s.answer is not None and s.entry["id"] not in logged
    )
    return Delivered(form, scored, received, unlogged, frozenset(late), offline)


def _pace(rows: Sequence[Step]) -> float | None:
    """The candidate's own seconds per question on the served ones (median), if three or more
    were answered: the fallback form is judged at this pace, not the average's."""
    times = sorted((s.answered_ms - s.served_ms) / 1000 for s in rows if s.answered_ms is not None)
    return times[len(times) // 2] if len(times) >= 3 else None
