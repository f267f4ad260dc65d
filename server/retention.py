"""Data rights: a candidate's data exported as JSON, and erased.

Erasure removes the personal data of a candidate's sittings (name, e-mail, the sealed
package, the event log with its device times and program names, the certificate, review
notes, shares, e-mails sent and verification codes) and keeps the item responses, no longer
linked to anyone, for item statistics; the result's levels stay as an anonymous count (the
percentiles of later candidates do not move) and its certificate reads as revoked.

Retention: an organisation may keep personal data for a set number of days after a sitting's
result (or, unfinished, after its invitation expired); the ``retention`` job, queued every hour
by every worker, erases what is due."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Connection, cast, func, or_, select

from server import audit, db, jobs
from server.accounts import Principal
from server.context import Context
from server.errors import ApiError
from server.invitations import DAY_MS
from shared import canonical

ERASED = "(erased)"
MIN_DAYS, MAX_DAYS = 1, 3650
HOUR_MS = 3_600_000


def _email(value: object) -> str:
    if not isinstance(value, str) or "@" not in value or len(value) > 254:
        raise ApiError(400, "bad_email", "Give the candidate's e-mail address.")
    return value.strip().lower()


def _sittings_of(connection: Connection, organisation_id: str | None, email: str) -> list[Any]:
    query = (
        select(db.sittings)
        .join(db.assessments, db.assessments.c.id == db.sittings.c.assessment_id)
        .where(func.lower(db.sittings.c.candidate_email) == email)
    )
    if organisation_id is not None:
        query = query.where(db.assessments.c.employer_id == organisation_id)
    return list(connection.execute(query.order_by(db.sittings.c.created_ms)).mappings())


# -- export ---------------------------------------------------------------------------------
def export(ctx: Context, organisation_id: str | None, email: str) -> dict[str, Any]:
    """Everything held about ``email`` (in one organisation, or everywhere for the operator)."""
    email = _email(email)
    with ctx.reader.connect() as connection:
        sittings = _sittings_of(connection, organisation_id, email)
        out: list[dict[str, Any]] = []
        for sitting in sittings:
            result = (
                connection.execute(
                    select(db.results).where(db.results.c.sitting_id == sitting["id"])
                )
                .mappings()
                .first()
            )
            document = connection.execute(
                select(db.submissions.c.document).where(
                    db.submissions.c.sitting_id == sitting["id"]
                )
            ).scalar()
            shares = connection.execute(
                select(db.result_shares.c.organisation_id, db.result_shares.c.source,
                       db.result_shares.c.granted_ms, db.result_shares.c.revoked_ms)
                .where(db.result_shares.c.result_id == (result["id"] if result else ""))
            ).mappings()  # fmt: skip
            out.append(
                {
                    "sitting_id": sitting["id"],
                    "assessment_id": sitting["assessment_id"],
                    "candidate_name": sitting["candidate_name"],
                    "candidate_email": sitting["candidate_email"],
                    "kind": sitting["kind"],
                    "state": sitting["state"],
                    "created_ms": sitting["created_ms"],
                    "started_ms": sitting["started_ms"],
                    "erased_ms": sitting["erased_ms"],
                    "result": None
                    if result is None
                    else {
                        "result_id": result["id"],
                        "created_ms": result["created_ms"],
                        "report": canonical.loads(result["report"]),
                        "review": result["review"],
                        "review_note": result["review_note"],
                        "verification_code": result["verification_code"],
                    },
                    "submission": None if document is None else canonical.loads(document),
                    "shares": [dict(share) for share in shares],
                }
            )
        mail = connection.execute(
            select(db.emails.c.kind, db.emails.c.subject, db.emails.c.state,
                   db.emails.c.created_ms, db.emails.c.sent_ms)
            .where(func.lower(db.emails.c.recipient) == email)
            .where(
                db.emails.c.organisation_id == organisation_id
                if organisation_id is not None
                else db.emails.c.id.is_not(None)
            )
        ).mappings()  # fmt: skip
        return {
            "email": email,
            "exported_ms": ctx.now_ms(),
            "sittings": out,
            "emails": [dict(row) for row in mail],
        }


def employer_export(
    ctx: Context, principal: Principal, organisation_id: str, email: str
) -> dict[str, Any]:
    principal.require(organisation_id, "privacy")
    found = export(ctx, organisation_id, email)
    with ctx.engine.begin() as connection:
        audit.record(
            connection, ctx.now_ms(), principal.actor, organisation_id, "candidate.export",
            f"sittings:{len(found['sittings'])}", principal.address,
        )  # fmt: skip
    return found


# -- erasure --------------------------------------------------------------------------------
def _erase(ctx: Context, connection: Connection, sittings: list[Any], now: int) -> list[str]:
    """Erase the personal data of ``sittings`` in the caller's transaction; the ids erased."""
    erased: list[str] = []
    emails: set[tuple[str, str]] = set()  # (address, organisation): e-mails it sent there
    owners = dict(
        connection.execute(
            select(db.assessments.c.id, db.assessments.c.employer_id).where(
                db.assessments.c.id.in_({s["assessment_id"] for s in sittings})
            )
        ).all()
    )
    for sitting in sittings:
        if sitting["erased_ms"] is not None:
            continue
        if sitting["candidate_email"]:
            emails.add((sitting["candidate_email"].lower(), owners[sitting["assessment_id"]]))
        connection.execute(
            db.sittings.update()
            .where(db.sittings.c.id == sitting["id"])
            .values(
                candidate_name=ERASED, candidate_email=None, package=None,
                prepared_secrets=None, ats_callback=None, erased_ms=now,
            )
        )  # fmt: skip
        document = connection.execute(
            select(db.submissions.c.document).where(db.submissions.c.sitting_id == sitting["id"])
        ).scalar()
        if document is not None:
            responses = canonical.loads(document)["body"]["responses"]
            anonymous = {"body": {"erased": True, "responses": responses}, "signature": ""}
            connection.execute(
                db.submissions.update()
                .where(db.submissions.c.sitting_id == sitting["id"])
                .values(document=canonical.to_text(anonymous))
            )
        result = (
            connection.execute(select(db.results).where(db.results.c.sitting_id == sitting["id"]))
            .mappings()
            .first()
        )
        if result is not None:
            report = canonical.loads(result["report"])
            kept = {
                "scoring": report.get("scoring"),
                "overall": report["overall"],
                "overall_detail": report["overall_detail"],
                "categories": report["categories"],
                "category_details": report["category_details"],
                "integrity": {"outcome": report["integrity"]["outcome"], "flags": []},
                "skills": [],
                "study_plan": [],
                "cuts": report.get("cuts"),
            }
            connection.execute(
                db.results.update()
                .where(db.results.c.id == result["id"])
                .values(
                    report=canonical.to_text(kept),
                    certificate=None,
                    credential=None,
                    review_note=None,
                )
            )
            connection.execute(
                db.result_shares.delete().where(db.result_shares.c.result_id == result["id"])
            )
        if sitting["device_id"]:
            connection.execute(
                db.devices.update()
                .where(db.devices.c.id == sitting["device_id"])
                .values(name=ERASED)
            )
        erased.append(sitting["id"])
    for email, organisation_id in emails:
        _forget_address(ctx, connection, email, organisation_id)
    return erased


def _forget_address(
    ctx: Context, connection: Connection, email: str, organisation_id: str | None
) -> None:
    """The e-mails an organisation (None: any) sent to the address, with their files where
    no relay is set, and the address's verification codes for its assessments. Another
    organisation's records of the same person are its own and stay."""
    sent = func.lower(db.emails.c.recipient) == email
    codes = func.lower(db.email_verifications.c.email) == email
    if organisation_id is not None:
        sent = sent & (db.emails.c.organisation_id == organisation_id)
        codes = codes & db.email_verifications.c.assessment_id.in_(
            select(db.assessments.c.id).where(db.assessments.c.employer_id == organisation_id)
        )
    for message in connection.execute(select(db.emails.c.id).where(sent)).all():
        (ctx.settings.mail_dir / f"{message.id}.eml").unlink(missing_ok=True)
    connection.execute(db.emails.delete().where(sent))
    connection.execute(db.email_verifications.delete().where(codes))


def erase(
    ctx: Context,
    organisation_id: str | None,
    email: str,
    actor: str = audit.OPERATOR,
    address: str = "local",
) -> dict[str, Any]:
    """Erase every sitting of ``email`` (in one organisation, or everywhere)."""
    email = _email(email)
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        sittings = _sittings_of(connection, organisation_id, email)
        erased = _erase(ctx, connection, sittings, now)
        if not sittings:
            _forget_address(ctx, connection, email, organisation_id)
        for organisation in {
            row.employer_id
            for row in connection.execute(
                select(db.assessments.c.employer_id).where(
                    db.assessments.c.id.in_([s["assessment_id"] for s in sittings])
                )
            )
        } or {organisation_id}:
            audit.record(
                connection, now, actor, organisation, "candidate.erase",
                f"sittings:{len(erased)}", address, sittings=erased,
            )  # fmt: skip
    return {"erased": len(erased), "sittings": erased}


def employer_erase(
    ctx: Context, principal: Principal, organisation_id: str, body: Any
) -> dict[str, Any]:
    principal.require(organisation_id, "privacy")
    email = body.get("email") if isinstance(body, dict) else None
    return erase(ctx, organisation_id, _email(email), principal.actor, principal.address)


def set_retention(
    ctx: Context, principal: Principal, organisation_id: str, body: Any
) -> dict[str, Any]:
    """How many days personal data is kept after a sitting (null: until erased on request)."""
    principal.require(organisation_id, "organisation")
    days = body.get("days") if isinstance(body, dict) else "missing"
    if days is not None and (type(days) is not int or not MIN_DAYS <= days <= MAX_DAYS):
        raise ApiError(
            400, "bad_days", f"Give a number of days from {MIN_DAYS} to {MAX_DAYS}, or null."
        )
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        connection.execute(
            db.organisations.update()
            .where(db.organisations.c.id == organisation_id)
            .values(retention_days=days)
        )
        audit.record(
            connection, now, principal.actor, organisation_id, "organisation.retention",
            f"organisation:{organisation_id}", principal.address, days=days,
        )  # fmt: skip
    return {"retention_days": days}


def due(connection: Connection, now: int) -> list[Any]:
    """Sittings whose organisation's retention period has run out, not yet erased."""
    ended = func.coalesce(db.results.c.created_ms, db.sittings.c.expires_ms)
    query = (
        select(db.sittings, db.organisations.c.id.label("organisation_id"))
        .join(db.assessments, db.assessments.c.id == db.sittings.c.assessment_id)
        .join(db.organisations, db.organisations.c.id == db.assessments.c.employer_id)
        .outerjoin(db.results, db.results.c.sitting_id == db.sittings.c.id)
        .where(
            db.organisations.c.retention_days.is_not(None),
            db.sittings.c.erased_ms.is_(None),
            ended + cast(db.organisations.c.retention_days, BigInteger) * DAY_MS < now,
            or_(db.results.c.id.is_not(None), db.sittings.c.expires_ms < now),
        )
        .limit(1000)
    )
    return list(connection.execute(query).mappings())


def apply_retention(ctx: Context) -> int:
    """Erase what retention makes due, in batches; how many sittings were erased."""
    total = 0
    while True:
        now = ctx.now_ms()
        with ctx.engine.begin() as connection:
            batch = due(connection, now)
            if not batch:
                return total
            erased = _erase(ctx, connection, batch, now)
            by_organisation: dict[str, list[str]] = {}
            for sitting in batch:
                if sitting["id"] in erased:
                    by_organisation.setdefault(sitting["organisation_id"], []).append(sitting["id"])
            for organisation, ids in by_organisation.items():
                audit.record(
                    connection, now, "retention", organisation, "candidate.erase",
                    f"sittings:{len(ids)}", "local", sittings=ids, reason="retention",
                )  # fmt: skip
        total += len(erased)
        if not erased:
            return total


@jobs.task("retention")
def retention(ctx: Context, _hour: str) -> None:
    apply_retention(ctx)


_scheduled: dict[str, int] = {}  # database URL -> the hour last queued by this process


def schedule(ctx: Context) -> None:
    """Queue this hour's retention run: called by every worker as it polls (one write an
    hour per process; the queue keeps one job per hour however many workers ask)."""
    hour = ctx.now_ms() // HOUR_MS
    url = ctx.settings.database_url
    if _scheduled.get(url) == hour:
        return
    with ctx.engine.begin() as connection:
        jobs.defer(connection, "retention", f"hour-{hour}")
    _scheduled[url] = hour
