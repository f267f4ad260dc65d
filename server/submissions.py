"""Receiving a signed submission: verify it, score it once, certify it, and answer the same
way to every repeat of the same upload (the submission id is the idempotency key)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from certificates.render import CertificateData, render_certificate
from server import db
from server.assembly import Blueprint
from server.bank.store import items_by_id
from server.context import Context
from server.errors import ApiError, not_found
from server.scoring import score
from server.sittings import own_sitting
from shared import canonical, crypto, events
from shared.errors import MalformedData
from shared.models import END_REASONS
from shared.policy import Policy
from shared.protocol import RECEIPT_FORMAT, SUBMISSION_FORMAT

# Allowance over the assessment's duration for clock granularity and the final save.
TIME_GRACE_MS = 15_000


def _check_body(body: dict[str, Any], device_id: str) -> None:
    if body.get("format") != SUBMISSION_FORMAT:
        raise MalformedData("The submission's format is not supported.")
    for field in ("submission_id", "sitting_id", "package_id", "device_id"):
        if not isinstance(body.get(field), str) or not body[field]:
            raise MalformedData(f"The submission has no {field}.")
    if body["device_id"] != device_id:
        raise ApiError(403, "wrong_device", "This submission belongs to another device.")
    if body.get("end_reason") not in END_REASONS:
        raise MalformedData("The submission's end reason is not known.")
    if not isinstance(body.get("responses"), list) or not isinstance(body.get("events"), list):
        raise MalformedData("The submission has no responses or events.")
    if not isinstance(body.get("timing"), dict):
        raise MalformedData("The submission has no timing.")


def _responses(body: dict[str, Any], form: list[dict[str, Any]]) -> dict[str, list[str]]:
    allowed = {entry["id"]: {shown for shown, _ in entry["options"]} for entry in form}
    responses: dict[str, list[str]] = {}
    for response in body["responses"]:
        if not isinstance(response, dict):
            raise MalformedData("A response is not an object.")
        item, options = response.get("item"), response.get("options")
        if not isinstance(item, str) or item not in allowed or item in responses:
            raise MalformedData("A response names an item that is not in this sitting.")
        if not isinstance(options, list) or not all(
            isinstance(option, str) and option in allowed[item] for option in options
        ):
            raise MalformedData("A response names an option that is not in its item.")
        responses[item] = list(options)
    return responses


def _journalled_answers(log: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each item's last answer in the event log (an emptied answer counts as none)."""
    answers: dict[str, list[str]] = {}
    for event in log:
        data = event.get("data")
        if event.get("type") == "answer" and isinstance(data, dict):
            answers[str(data.get("item"))] = list(data.get("options") or [])
    return {item: options for item, options in answers.items() if options}


INTEGRITY_KINDS = (
    "focus_lost",
    "key_blocked",
    "clipboard_used",
    "display_added",
    "program_found",
    "clock_gap",
)


def integrity_flags(body: dict[str, Any], duration_s: int, policy: Policy) -> dict[str, Any]:
    """What the event log shows, judged by the assessment's policy, for the employer's eyes."""
    log = [e for e in body["events"] if isinstance(e, dict)]

    def of(kind: str) -> list[dict[str, Any]]:
        return [e.get("data", {}) for e in log if e.get("type") == kind]

    counts = {kind: len(of(kind)) for kind in INTEGRITY_KINDS}
    away = sum(int(d.get("away_ms", 0)) for d in of("focus_returned"))
    checks = [c for d in of("health_check") for c in d.get("checks", [])]
    vm = [
        c.get("detail", "")
        for c in checks
        if c.get("name") == "virtual machine" and c.get("status") != "ok"
    ]
    started = of("lockdown_started")
    elapsed = body["timing"].get("elapsed_ms")
    flags = {
        "focus_losses": counts["focus_lost"],
        "time_away_ms": away,
        "events": counts,
        "programs_seen": sorted({str(d.get("name")) for d in of("program_found")}),
        "shortcuts": sorted({str(d.get("combo")) for d in of("key_blocked")}),
        "vm_signals": vm,
        "locks": len(of("locked")),
        "proctor_unlocks": len(of("unlocked")),
        "refused_unlock_codes": len(of("unlock_refused")),
        "capture_protection": bool(started and started[-1].get("capture_protection")),
        "health_check": checks,
        "over_time": isinstance(elapsed, int) and elapsed > duration_s * 1000 + TIME_GRACE_MS,
    }
    serious = any(
        counts[kind] and policy.rule(kind).action in ("warn", "lock", "void")
        for kind in INTEGRITY_KINDS
    )
    if body.get("end_reason") == "voided":
        outcome = "voided"
    elif serious or flags["locks"] or flags["over_time"] or (vm and policy.vm != "allow"):
        outcome = "flagged"
    else:
        outcome = "clean"
    flags["outcome"] = outcome
    return flags


def submit(ctx: Context, device_id: str, raw: bytes) -> dict[str, Any]:
    """Verify, score and store a signed submission; a repeat returns the first answer."""
    document = canonical.loads(raw)
    if not isinstance(document, dict) or not isinstance(document.get("body"), dict):
        raise MalformedData("The submission is not a signed document.")
    _check_body(document["body"], device_id)
    stored_text = canonical.dumps(document).decode()
    submission_id = document["body"]["submission_id"]
    with ctx.engine.begin() as connection:
        existing = _stored(connection, submission_id)
        if existing is not None:
            return _repeat(connection, existing, device_id, stored_text)
        device = (
            connection.execute(select(db.devices).where(db.devices.c.id == device_id))
            .mappings()
            .one()
        )
        body = crypto.verify_document(
            document, crypto.b64decode(device["sign_public"]), "submission"
        )
        sitting = own_sitting(connection, device_id, body["sitting_id"])
        if body["package_id"] != sitting["package_id"]:
            raise ApiError(409, "wrong_package", "This submission is for another exam package.")
        if sitting["state"] == "scored":
            raise ApiError(409, "already_submitted", "This sitting has already been submitted.")
        events.verify_chain(body["events"], body["sitting_id"])
        form = canonical.loads(sitting["form"])
        responses = _responses(body, form)
        if {k: v for k, v in responses.items() if v} != _journalled_answers(body["events"]):
            raise MalformedData("The responses do not match the sitting's event log.")
        assessment = (
            connection.execute(
                select(db.assessments).where(db.assessments.c.id == sitting["assessment_id"])
            )
            .mappings()
            .one()
        )
        blueprint = Blueprint.from_json(canonical.loads(assessment["blueprint"]))
        report = score(
            form,
            items_by_id(connection, [e["item"] for e in form]),
            responses,
            item_feedback=blueprint.item_feedback,
        )
        policy = Policy.from_json(canonical.loads(assessment["policy"]))
        report["integrity"] = integrity_flags(body, assessment["duration_s"], policy)
        now = ctx.now_ms()
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
    body = {
        "format": RECEIPT_FORMAT,
        "submission_id": answer["submission_id"],
        "submission_sha256": answer["submission_sha256"],
        "received_ms": answer["received_ms"],
        "result_id": answer["result_id"],
    }
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
    normalised = crypto.normalise_unlock_code(code)
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
