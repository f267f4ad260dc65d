"""Results as an employer sees them, under the candidate's consent.

An organisation sees a result's content (levels, confidence, feedback, the integrity record and
its timeline, the certificate) only while the result is shared with it: chosen by an invited
candidate before the clock started (signed in the submission), or granted later by the
candidate from their device; revoking takes effect at the next read. Without a share it sees
only that the sitting was completed, and filters on content match shared results only (so a
filter cannot reveal what a row hides). Every read of a result's content is audited.

Review: an integrity-flagged result can be cleared with a note or voided with a reason;
voiding revokes its certificate (``/verify`` then says so)."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, or_, select

from server import audit, db, jobs, webhooks
from server.accounts import Principal, organisation_by_slug
from server.context import Context
from server.errors import ApiError, not_found
from server.roster import parse_moment
from shared import canonical
from shared.events import Event
from shared.models import LEVELS

OUTCOMES = ("clean", "flagged", "voided")
REVIEWS = ("unreviewed", "cleared", "voided")
PAGE, MAX_PAGE, MAX_EXPORT = 100, 1000, 50_000
# The events an employer's timeline shows (the answers themselves stay out of it).
TIMELINE_KINDS = frozenset(
    {
        "started",
        "ended",
        "resumed",
        "focus_lost",
        "focus_returned",
        "key_blocked",
        "clipboard_used",
        "display_added",
        "program_found",
        "clock_gap",
        "clock_slowed",
        "locked",
        "unlocked",
        "released",
        "unlock_refused",
        "save_failed",
        "lockdown_started",
    }
)
ERASED = "(erased)"


# -- consent --------------------------------------------------------------------------------
def chosen_share(log: list[Event], organisation_id: str) -> bool:
    """The candidate's answer before the clock, as journalled: True only for an explicit yes
    to this organisation (no answer shares nothing)."""
    answers = [e for e in log if e.type == "consent"]
    if not answers:
        return False
    last = answers[-1].data
    return bool(last["share"]) and last["organisation"] == organisation_id


def _active_share(organisation_id: str) -> Any:
    return and_(
        db.result_shares.c.result_id == db.results.c.id,
        db.result_shares.c.organisation_id == organisation_id,
        db.result_shares.c.revoked_ms.is_(None),
    )


def _scored_data(row: RowMapping | dict[str, Any], shared: bool) -> dict[str, Any]:
    """What a ``result.scored`` event or an unshared row says."""
    data: dict[str, Any] = {
        "result_id": row["id"],
        "sitting_id": row["sitting_id"],
        "assessment_id": row["assessment_id"],
        "completed_ms": row["created_ms"],
        "shared": shared,
    }
    if shared:
        report = canonical.loads(row["report"])
        data.update(
            overall=report["overall"],
            categories=report["categories"],
            integrity=row["integrity"],
        )
    return data


def on_scored(
    ctx: Context,
    connection: Connection,
    result: dict[str, Any],
    sitting: RowMapping,
    organisation_id: str,
    share: bool,
) -> None:
    """In the transaction that stores a result: the share the candidate chose, and the
    events for the organisation's webhooks."""
    if share:
        connection.execute(
            db.result_shares.insert().values(
                result_id=result["id"],
                organisation_id=organisation_id,
                source="sitting",
                granted_ms=result["created_ms"],
            )
        )
    webhooks.emit(ctx, connection, organisation_id, "result.scored", _scored_data(result, share))
    if sitting["ats_callback"]:
        jobs.defer(connection, "ats", sitting["id"])
    if share and result["integrity"] != "clean":
        webhooks.emit(
            ctx, connection, organisation_id, "result.flagged",
            {**_scored_data(result, True), "flags": _flags(result)},
        )  # fmt: skip


def _flags(result: RowMapping | dict[str, Any]) -> list[dict[str, Any]]:
    return list(canonical.loads(result["report"])["integrity"]["flags"])


# -- reading --------------------------------------------------------------------------------
def _columns() -> list[Any]:
    return [
        db.results.c.id,
        db.results.c.sitting_id,
        db.results.c.assessment_id,
        db.results.c.overall,
        db.results.c.report,
        db.results.c.integrity,
        db.results.c.review,
        db.results.c.review_note,
        db.results.c.reviewed_by,
        db.results.c.reviewed_ms,
        db.results.c.verification_code,
        db.results.c.created_ms,
        db.sittings.c.candidate_name,
        db.sittings.c.candidate_email,
        db.sittings.c.kind,
        db.sittings.c.offline,
        db.sittings.c.erased_ms,
        db.assessments.c.title,
        db.assessments.c.employer_id,
        db.result_shares.c.source.label("share_source"),
        db.result_shares.c.granted_ms.label("shared_ms"),
    ]


def _visible(organisation_id: str) -> Any:
    """Results this organisation may know of: its own assessments' sittings, and results
    shared with it."""
    return (
        select(*_columns())
        .join(db.sittings, db.sittings.c.id == db.results.c.sitting_id)
        .join(db.assessments, db.assessments.c.id == db.results.c.assessment_id)
        .outerjoin(db.result_shares, _active_share(organisation_id))
        .where(
            or_(
                db.assessments.c.employer_id == organisation_id,
                db.result_shares.c.organisation_id.is_not(None),
            )
        )
    )


def _row_view(row: RowMapping) -> dict[str, Any]:
    shared = row["share_source"] is not None
    erased = row["erased_ms"] is not None
    view: dict[str, Any] = {
        "result_id": row["id"],
        "sitting_id": row["sitting_id"],
        "assessment_id": row["assessment_id"],
        "assessment": row["title"],
        "candidate_name": ERASED if erased else row["candidate_name"],
        "candidate_email": None if erased else row["candidate_email"],
        "kind": row["kind"],
        "completed_ms": row["created_ms"],
        "shared": shared,
    }
    if not shared:
        return view
    report = canonical.loads(row["report"])
    view.update(
        shared_ms=row["shared_ms"],
        share_source=row["share_source"],
        overall=report["overall"],
        confidence=report["overall_detail"].get("confidence"),
        categories=report["categories"],
        integrity=row["integrity"],
        review=row["review"] or "unreviewed",
    )
    return view


def _choice(value: str | None, allowed: tuple[str, ...], what: str) -> str | None:
    if value in (None, ""):
        return None
    if value not in allowed:
        raise ApiError(400, "bad_filter", f"{what} is one of: {', '.join(allowed)}.")
    return value


def _filtered(organisation_id: str, query: dict[str, str]) -> Any:
    statement = _visible(organisation_id)
    if query.get("assessment_id"):
        statement = statement.where(db.results.c.assessment_id == query["assessment_id"])
    level = _choice(query.get("level"), LEVELS, "level")
    outcome = _choice(query.get("integrity"), OUTCOMES, "integrity")
    review = _choice(query.get("review"), REVIEWS, "review")
    shared = _choice(query.get("shared"), ("true", "false"), "shared")
    content = level or outcome or review
    if content or shared == "true":  # content is matched among shared results only
        statement = statement.where(db.result_shares.c.organisation_id.is_not(None))
    elif shared == "false":
        statement = statement.where(db.result_shares.c.organisation_id.is_(None))
    if level:
        statement = statement.where(db.results.c.overall == level)
    if outcome:
        statement = statement.where(db.results.c.integrity == outcome)
    if review == "unreviewed":
        statement = statement.where(db.results.c.review.is_(None))
    elif review:
        statement = statement.where(db.results.c.review == review)
    for name, compare in (("from", "ge"), ("to", "lt")):
        if query.get(name):
            try:
                moment = parse_moment(query[name])
            except ValueError as error:
                raise ApiError(400, "bad_filter", f"'{name}': {error}.") from None
            column = db.results.c.created_ms
            statement = statement.where(column >= moment if compare == "ge" else column < moment)
    return statement.order_by(db.results.c.created_ms.desc(), db.results.c.id)


def _count(value: str | None, default: int, most: int, what: str) -> int:
    if value in (None, ""):
        return default
    if not value.isdigit():
        raise ApiError(400, "bad_filter", f"{what} is a whole number.")
    return min(int(value), most)


def listing(
    ctx: Context, principal: Principal, organisation_id: str, query: dict[str, str]
) -> dict[str, Any]:
    """One page of results, newest first, filtered (``assessment_id``, ``level``,
    ``integrity``, ``review``, ``shared``, ``from``, ``to``; ``limit``, ``offset``)."""
    principal.require(organisation_id, "results:read")
    limit = max(1, _count(query.get("limit"), PAGE, MAX_PAGE, "limit"))
    offset = _count(query.get("offset"), 0, 10**9, "offset")
    statement = _filtered(organisation_id, query).limit(limit + 1).offset(offset)
    with ctx.reader.connect() as connection:
        rows = [_row_view(row) for row in connection.execute(statement).mappings()]
    with ctx.engine.begin() as connection:
        audit.record(
            connection, ctx.now_ms(), principal.actor, organisation_id, "results.list",
            f"organisation:{organisation_id}", principal.address,
            shown=sum(1 for row in rows[:limit] if row["shared"]),
        )  # fmt: skip
    return {"items": rows[:limit], "next_offset": offset + limit if len(rows) > limit else None}


CSV_COLUMNS = (
    "result_id",
    "sitting_id",
    "assessment",
    "candidate_name",
    "candidate_email",
    "completed",
    "shared",
    "overall",
    "confidence",
    "integrity",
    "review",
)


def _iso(ms: int | None) -> str:
    from datetime import UTC, datetime

    return "" if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP's CSV injection advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(
    ctx: Context, principal: Principal, organisation_id: str, query: dict[str, str]
) -> str:
    """Every result the filters match, as CSV (one column per category after the fixed ones)."""
    principal.require(organisation_id, "results:read")
    statement = _filtered(organisation_id, query).limit(MAX_EXPORT)
    with ctx.reader.connect() as connection:
        rows = [_row_view(row) for row in connection.execute(statement).mappings()]
    categories = sorted({name for row in rows for name in row.get("categories", {})})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*CSV_COLUMNS, *categories])
    for row in rows:
        values = {
            **row,
            "completed": _iso(row["completed_ms"]),
            "shared": str(row["shared"]).lower(),
        }
        writer.writerow(
            [_cell(values.get(name)) for name in CSV_COLUMNS]
            + [_cell(row.get("categories", {}).get(name)) for name in categories]
        )
    with ctx.engine.begin() as connection:
        audit.record(
            connection, ctx.now_ms(), principal.actor, organisation_id, "results.export",
            f"organisation:{organisation_id}", principal.address,
            rows=len(rows), shown=sum(1 for row in rows if row["shared"]),
        )  # fmt: skip
    return out.getvalue()


def _one(connection: Connection, organisation_id: str, result_id: str) -> RowMapping:
    row = (
        connection.execute(_visible(organisation_id).where(db.results.c.id == result_id))
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("result")
    return row


def timeline(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The integrity timeline of a stored submission: when each event of note happened, in
    the sitting's own time (``elapsed_ms``) and by the device's wall clock (``at_ms``)."""
    return [
        {
            "seq": event["seq"],
            "type": event["type"],
            "elapsed_ms": event["elapsed_ms"],
            "at_ms": event["at_ms"],
            "data": event["data"],
        }
        for event in document["body"]["events"]
        if event["type"] in TIMELINE_KINDS
    ]


def detail(
    ctx: Context, principal: Principal, organisation_id: str, result_id: str
) -> dict[str, Any]:
    """One result: all of it while shared, else only that the sitting was completed."""
    principal.require(organisation_id, "results:read")
    with ctx.reader.connect() as connection:
        row = _one(connection, organisation_id, result_id)
        view = _row_view(row)
        if view["shared"]:
            report = canonical.loads(row["report"])
            document = connection.execute(
                select(db.submissions.c.document)
                .join(db.results, db.results.c.submission_id == db.submissions.c.id)
                .where(db.results.c.id == result_id)
            ).scalar_one()
            view.update(
                overall_detail=report["overall_detail"],
                category_details=report["category_details"],
                skills=report["skills"],
                study_plan=report["study_plan"],
                integrity_record=report["integrity"],
                timeline=timeline(canonical.loads(document)),
                verification_code=row["verification_code"],
                review_note=row["review_note"],
                reviewed_by=row["reviewed_by"],
                reviewed_ms=row["reviewed_ms"],
            )
    with ctx.engine.begin() as connection:
        audit.record(
            connection, ctx.now_ms(), principal.actor, organisation_id, "result.read",
            f"result:{result_id}", principal.address, shared=view["shared"],
        )  # fmt: skip
    return view


def certificate(ctx: Context, principal: Principal, organisation_id: str, result_id: str) -> bytes:
    """The certificate's PDF, while shared and not voided (409 while still being rendered)."""
    principal.require(organisation_id, "results:read")
    with ctx.reader.connect() as connection:
        row = _one(connection, organisation_id, result_id)
        if row["share_source"] is None:
            raise ApiError(403, "not_shared", "The candidate has not shared this result with you.")
        if row["review"] == "voided" or row["integrity"] == "voided":
            raise ApiError(410, "voided", "This result was voided; its certificate is revoked.")
        pdf = connection.execute(
            select(db.results.c.certificate).where(db.results.c.id == result_id)
        ).scalar_one()
    if pdf is None:
        raise ApiError(
            409, "certificate_pending", "The certificate is being prepared; ask again shortly.",
            {"Retry-After": "2"},
        )  # fmt: skip
    with ctx.engine.begin() as connection:
        audit.record(
            connection, ctx.now_ms(), principal.actor, organisation_id, "result.certificate",
            f"result:{result_id}", principal.address,
        )  # fmt: skip
    return bytes(pdf)


# -- review ---------------------------------------------------------------------------------
def review(
    ctx: Context, principal: Principal, organisation_id: str, result_id: str, body: Any
) -> dict[str, Any]:
    """Clear (with a note) or void (with a reason) a flagged result of the organisation's own
    assessment. Voiding is final: the certificate is revoked and a void is never undone."""
    principal.require(organisation_id, "review")
    if not isinstance(body, dict) or body.get("decision") not in ("clear", "void"):
        raise ApiError(400, "malformed", "Give a decision, clear or void, and a note.")
    note = body.get("note")
    if not isinstance(note, str) or not 3 <= len(note.strip()) <= 2000:
        raise ApiError(
            400, "note_needed", "Say why, in a note of 3 to 2000 characters: it is kept."
        )
    decision = "cleared" if body["decision"] == "clear" else "voided"
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        row = _one(connection, organisation_id, result_id)
        if row["employer_id"] != organisation_id:
            raise ApiError(
                403, "not_yours", "Only the organisation whose assessment this is reviews it."
            )
        if row["share_source"] is None:
            raise ApiError(403, "not_shared", "The candidate has not shared this result with you.")
        if row["integrity"] == "clean":
            raise ApiError(
                409, "not_flagged", "This result was not flagged: there is nothing to review."
            )
        if row["review"] == "voided":
            raise ApiError(
                409, "already_voided", "This result was voided already; a void is final."
            )
        connection.execute(
            db.results.update()
            .where(db.results.c.id == result_id)
            .values(
                review=decision, review_note=note.strip(), reviewed_by=principal.actor,
                reviewed_ms=now,
            )
        )  # fmt: skip
        audit.record(
            connection, now, principal.actor, organisation_id, f"result.{body['decision']}",
            f"result:{result_id}", principal.address,
        )  # fmt: skip
    return {"result_id": result_id, "review": decision, "reviewed_ms": now}


# -- the candidate's own choices (from their device) ---------------------------------------
def _device_result(connection: Connection, device_id: str, submission_id: str) -> RowMapping:
    row = (
        connection.execute(
            select(
                db.results.c.id,
                db.results.c.sitting_id,
                db.results.c.assessment_id,
                db.results.c.created_ms,
                db.results.c.report,
                db.results.c.integrity,
                db.sittings.c.erased_ms,
            )
            .join(db.submissions, db.submissions.c.id == db.results.c.submission_id)
            .join(db.sittings, db.sittings.c.id == db.results.c.sitting_id)
            .where(
                db.results.c.submission_id == submission_id,
                db.submissions.c.device_id == device_id,
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("result")
    return row


def shares(ctx: Context, device_id: str, submission_id: str) -> list[dict[str, Any]]:
    """Who this device's result is shared with, and who it was (revoked shares kept)."""
    with ctx.reader.connect() as connection:
        result = _device_result(connection, device_id, submission_id)
        rows = connection.execute(
            select(db.result_shares, db.organisations.c.slug, db.organisations.c.name)
            .join(db.organisations, db.organisations.c.id == db.result_shares.c.organisation_id)
            .where(db.result_shares.c.result_id == result["id"])
            .order_by(db.result_shares.c.granted_ms)
        ).mappings()
        return [
            {
                "organisation": row["slug"],
                "name": row["name"],
                "source": row["source"],
                "granted_ms": row["granted_ms"],
                "revoked_ms": row["revoked_ms"],
                "active": row["revoked_ms"] is None,
            }
            for row in rows
        ]


def _organisation_by_slug(connection: Connection, slug: object) -> RowMapping:
    try:
        return organisation_by_slug(connection, slug if isinstance(slug, str) else "")
    except ApiError:
        raise ApiError(
            404,
            "no_such_organisation",
            "No organisation has that handle: ask the organisation for the handle it uses on "
            "examgate.",
        ) from None


def grant(ctx: Context, device_id: str, submission_id: str, body: Any) -> dict[str, Any]:
    """Share this device's result with the organisation whose handle is ``body.organisation``."""
    slug = body.get("organisation") if isinstance(body, dict) else None
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        result = _device_result(connection, device_id, submission_id)
        if result["erased_ms"] is not None:
            raise ApiError(410, "erased", "This result was erased and can no longer be shared.")
        organisation = _organisation_by_slug(connection, slug)
        existing = (
            connection.execute(
                select(db.result_shares).where(
                    db.result_shares.c.result_id == result["id"],
                    db.result_shares.c.organisation_id == organisation["id"],
                )
            )
            .mappings()
            .first()
        )
        if existing is None:
            connection.execute(
                db.result_shares.insert().values(
                    result_id=result["id"], organisation_id=organisation["id"],
                    source="candidate", granted_ms=now,
                )
            )  # fmt: skip
        elif existing["revoked_ms"] is not None:
            connection.execute(
                db.result_shares.update()
                .where(
                    db.result_shares.c.result_id == result["id"],
                    db.result_shares.c.organisation_id == organisation["id"],
                )
                .values(revoked_ms=None, granted_ms=now, source="candidate")
            )
        if existing is None or existing["revoked_ms"] is not None:
            _consent_changed(ctx, connection, organisation["id"], result, True, now)
    return {"organisation": organisation["slug"], "name": organisation["name"], "active": True}


def revoke(ctx: Context, device_id: str, submission_id: str, slug: str) -> None:
    """Stop sharing this device's result with an organisation: from the next read on, it sees
    only that the sitting was completed."""
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        result = _device_result(connection, device_id, submission_id)
        organisation = _organisation_by_slug(connection, slug)
        changed = connection.execute(
            db.result_shares.update()
            .where(
                db.result_shares.c.result_id == result["id"],
                db.result_shares.c.organisation_id == organisation["id"],
                db.result_shares.c.revoked_ms.is_(None),
            )
            .values(revoked_ms=now)
        ).rowcount
        if changed:
            _consent_changed(ctx, connection, organisation["id"], result, False, now)


def _consent_changed(
    ctx: Context,
    connection: Connection,
    organisation_id: str,
    result: RowMapping,
    shared: bool,
    now: int,
) -> None:
    audit.record(
        connection, now, "candidate", organisation_id,
        "consent.grant" if shared else "consent.revoke", f"result:{result['id']}", "device",
    )  # fmt: skip
    webhooks.emit(
        ctx, connection, organisation_id, "consent.changed",
        {"result_id": result["id"], "sitting_id": result["sitting_id"], "shared": shared,
         "changed_ms": now},
    )  # fmt: skip
