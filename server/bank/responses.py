"""The responses stored with scored submissions, as item analysis and calibration need them."""

from __future__ import annotations

from sqlalchemy import Connection, select

from server import db
from server.bank.store import all_items
from shared import canonical

Answered = dict[str, tuple[bool, str, bool]]  # item id -> (correct, chosen option, pretest)


def stored_responses(connection: Connection, assessment_id: str | None = None) -> list[Answered]:
    """One map per scored sitting: each item on the form, whether it was answered right, which
    bank option was chosen ('' for none), and whether it was a pretest item."""
    keys = {item.id: set(item.key) for item in all_items(connection)}
    query = (
        select(db.sittings.c.form, db.submissions.c.document)
        .join(db.submissions, db.submissions.c.sitting_id == db.sittings.c.id)
        .join(db.results, db.results.c.submission_id == db.submissions.c.id)
    )
    if assessment_id is not None:
        query = query.where(db.sittings.c.assessment_id == assessment_id)
    sittings: list[Answered] = []
    for form_text, document in connection.execute(query):
        body = canonical.loads(document)["body"]
        chosen = {r["item"]: r["options"] for r in body["responses"]}
        answered: Answered = {}
        for entry in canonical.loads(form_text):
            to_bank = dict(entry["options"])
            options = {to_bank[o] for o in chosen.get(entry["id"], []) if o in to_bank}
            answered[entry["item"]] = (
                options == keys.get(entry["item"], set()) and bool(options),
                ",".join(sorted(options)),
                bool(entry.get("pretest")),
            )
        sittings.append(answered)
    return sittings


def stored_times(connection: Connection) -> list[tuple[str, str, float]]:
    """``(sitting, bank item, seconds)`` for every item of every scored sitting that was on
    screen: how long it was shown in all, from the event log's charged time (``elapsed_ms``,
    which a crash or the machine sleeping does not inflate). The items show in form order
    from ``started``; each ``advance`` moves from one to another."""
    query = (
        select(db.sittings.c.id, db.sittings.c.form, db.submissions.c.document)
        .join(db.submissions, db.submissions.c.sitting_id == db.sittings.c.id)
        # scored only: a submission received under load is stored before it is verified
        .join(db.results, db.results.c.submission_id == db.submissions.c.id)
    )
    found: list[tuple[str, str, float]] = []
    for sitting_id, form_text, document in connection.execute(query):
        form = canonical.loads(form_text)
        to_bank = {entry["id"]: entry["item"] for entry in form}
        shown: dict[str, int] = {}
        current, since = None, 0
        for event in canonical.loads(document)["body"]["events"]:
            kind, at = event["type"], int(event["elapsed_ms"])
            if current is not None and kind in ("advance", "ended"):
                shown[current] = shown.get(current, 0) + max(0, at - since)
            if kind == "started" and form:
                current, since = form[0]["id"], at
            elif kind == "advance":
                current, since = event["data"]["to"], at
            elif kind == "ended":
                current = None
        found += [
            (sitting_id, to_bank[shown_id], ms / 1000)
            for shown_id, ms in shown.items()
            if shown_id in to_bank
        ]
    return found
