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
