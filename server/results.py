"""Results: a verified submission is scored once, judged for integrity, certified, and answered
the same way to every repeat of the same upload (the submission id is the idempotency key)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from certificates.render import CertificateData, render_certificate
from server import db, verification
from server.assembly import Blueprint
from server.bank.store import items_by_id
from server.context import Context
from server.errors import ApiError, not_found
from server.integrity import judge
from server.scoring import score
from shared import canonical, crypto
from shared.wire import Receipt


def submit(ctx: Context, device_id: str, raw: bytes) -> dict[str, Any]:
    """Verify, score and store a signed submission; a repeat returns the first answer."""
    document = verification.parse(raw, device_id)
    submission_id = document["body"]["submission_id"]
    with ctx.engine.begin() as connection:
        existing = _stored(connection, submission_id)
        if existing is not None:
            return _repeat(connection, existing, device_id, canonical.dumps(document).decode())
        now = ctx.now_ms()
        checked = verification.verify(ctx, connection, device_id, document, now)
        stored_text = canonical.dumps(document).decode()
        sitting, assessment = checked.sitting, checked.assessment
        blueprint = Blueprint.from_json(canonical.loads(assessment["blueprint"]))
        report = score(
            checked.form,
            items_by_id(connection, [e["item"] for e in checked.form]),
            checked.responses,
            item_feedback=blueprint.item_feedback,
        )
        report["integrity"] = judge(checked.log, checked.facts)
        verification_code = crypto.new_unlock_code(ctx.rng.randrange)
        certificate = render_certificate(
            CertificateData(
                candidate=sitting["candidate_name"],
                assessment=assessment["title"],
                date=datetime.fromtimestamp(now / 1000, tz=UTC).date(),
                overall=report["overall"],
                categories=report["categories"],
                verification_code=verification_code,
                verification_url=f"{ctx.settings.public_url}/verify/{verification_code}",
            )
        )
        try:
            with connection.begin_nested():
                connection.execute(
                    db.submissions.insert().values(
                        id=submission_id,
                        sitting_id=sitting["id"],
                        device_id=device_id,
                        document=stored_text,
                        received_ms=now,
                    )
                )
        except IntegrityError:
            # Another worker stored this sitting's submission first: answer as a repeat would.
            raced = _stored(connection, submission_id)
            if raced is None:
                raise ApiError(
                    409, "already_submitted", "This sitting has already been submitted."
                ) from None
            return _repeat(connection, raced, device_id, stored_text)
        result_id = f"{ctx.rng.getrandbits(64):016x}"
        connection.execute(
            db.results.insert().values(
                id=result_id,
                submission_id=submission_id,
                sitting_id=sitting["id"],
                overall=report["overall"],
                overall_theta=report["overall_detail"]["theta"],
                report=canonical.to_text(report),
                verification_code=verification_code,
                certificate=certificate,
                created_ms=now,
            )
        )
        connection.execute(
            db.sittings.update().where(db.sittings.c.id == sitting["id"]).values(state="scored")
        )
        return _answer(connection, submission_id)


def _stored(connection: Connection, submission_id: str) -> dict[str, Any] | None:
    row = (
        connection.execute(select(db.submissions).where(db.submissions.c.id == submission_id))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def _repeat(
    connection: Connection, existing: dict[str, Any], device_id: str, stored_text: str
) -> dict[str, Any]:
    if existing["device_id"] != device_id:
        raise not_found("submission")
    if existing["document"] != stored_text:
        raise ApiError(
            409, "conflict", "A different submission with this id has already been received."
        )
    return _answer(connection, existing["id"])


def _answer(connection: Connection, submission_id: str) -> dict[str, Any]:
    row = (
        connection.execute(
            select(db.results, db.submissions.c.document, db.submissions.c.received_ms)
            .join(db.submissions, db.submissions.c.id == db.results.c.submission_id)
            .where(db.results.c.submission_id == submission_id)
        )
        .mappings()
        .one()
    )
    report = canonical.loads(row["report"])
    answer = {
        "percentile": _percentile(connection, row["sitting_id"], row["overall_theta"]),
        "submission_id": submission_id,
        "result_id": row["id"],
        "verification_code": row["verification_code"],
        "received_ms": row["received_ms"],
        "submission_sha256": hashlib.sha256(row["document"].encode()).hexdigest(),
        **report,
    }
    return answer


def _percentile(connection: Connection, sitting_id: str, theta: float | None) -> int | None:
    """Where this result stands among all scored results of the same assessment (0-100):
    the share scoring below it, ties counted half. Read when asked, so it follows the cohort."""
    if theta is None:
        return None
    assessment = (
        select(db.sittings.c.assessment_id).where(db.sittings.c.id == sitting_id).scalar_subquery()
    )
    cohort = (
        select(db.results.c.overall_theta)
        .join(db.sittings, db.sittings.c.id == db.results.c.sitting_id)
        .where(db.sittings.c.assessment_id == assessment, db.results.c.overall_theta.is_not(None))
        .subquery()
    )
    below, same, total = connection.execute(
        select(
            func.count().filter(cohort.c.overall_theta < theta),
            func.count().filter(cohort.c.overall_theta == theta),
            func.count(),
        ).select_from(cohort)
    ).one()
    return round(100 * (below + 0.5 * same) / total) if total else None


def receipt(ctx: Context, answer: dict[str, Any]) -> dict[str, Any]:
    """The server's signed acknowledgement of a stored submission."""
    body = Receipt(
        submission_id=answer["submission_id"],
        submission_sha256=answer["submission_sha256"],
        received_ms=answer["received_ms"],
        result_id=answer["result_id"],
    ).to_json()
    return crypto.sign_document(body, ctx.signing_key)


def result_for(ctx: Context, device_id: str, submission_id: str) -> dict[str, Any]:
    with ctx.engine.connect() as connection:
        existing = _stored(connection, submission_id)
        if existing is None or existing["device_id"] != device_id:
            raise not_found("result")
        return _answer(connection, submission_id)


def certificate_for(ctx: Context, device_id: str, submission_id: str) -> bytes:
    with ctx.engine.connect() as connection:
        existing = _stored(connection, submission_id)
        if existing is None or existing["device_id"] != device_id:
            raise not_found("certificate")
        row = connection.execute(
            select(db.results.c.certificate).where(db.results.c.submission_id == submission_id)
        ).one()
        return bytes(row.certificate)


def verify_code(ctx: Context, code: str) -> dict[str, Any]:
    """Public: whether ``code`` belongs to a genuine certificate, and what it certifies."""
    normalised = crypto.normalise_unlock_code(code)[:64]
    pretty = "-".join(normalised[i : i + 4] for i in range(0, len(normalised), 4))
    with ctx.engine.connect() as connection:
        row = (
            connection.execute(
                select(
                    db.results.c.overall,
                    db.results.c.report,
                    db.results.c.created_ms,
                    db.sittings.c.candidate_name,
                    db.assessments.c.title,
                )
                .join(db.sittings, db.sittings.c.id == db.results.c.sitting_id)
                .join(db.assessments, db.assessments.c.id == db.sittings.c.assessment_id)
                .where(db.results.c.verification_code == pretty)
            )
            .mappings()
            .first()
        )
    if row is None:
        return {"genuine": False, "verification_code": pretty}
    report = canonical.loads(row["report"])
    return {
        "genuine": True,
        "verification_code": pretty,
        "candidate": row["candidate_name"],
        "assessment": row["title"],
        "date": datetime.fromtimestamp(row["created_ms"] / 1000, tz=UTC).date().isoformat(),
        "overall": row["overall"],
        "categories": report["categories"],
    }
