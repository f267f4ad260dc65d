"""Results: a verified submission is scored exactly once, judged for integrity, stored, and
answered the same way to every repeat of the same upload (the submission id is the
idempotency key, claimed in the database so every worker agrees).

The upload does that and nothing else: the certificate is rendered by the ``certify`` job,
deferred in the same transaction as the result (so no result lacks one), and fetched when ready.
Percentiles are read from a maintained distribution of scores (``result_distribution``), so
their cost does not grow with the number of results."""

from __future__ import annotations

import functools
import hashlib
import logging
import math
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, RowMapping, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite

from server import credentials, db, employer_results, jobs, metrics, verification
from server.assembly import Blueprint
from server.bank.store import cached_items
from server.context import Context
from server.errors import ApiError, not_found, refusal
from server.integrity import judge
from server.invitations import own_sitting
from server.scoring import score
from shared import canonical, crypto
from shared.errors import ExamgateError, MalformedData
from shared.models import MIN_COHORT
from shared.protocol import HAND_IN_FORMAT
from shared.wire import Receipt

log = logging.getLogger("examgate.results")

# A claim on a submission id still "processing" after this long is taken to be abandoned (the
# worker holding it died); a repeat may then process it.
CLAIM_STALE_MS = 30_000


def submit(ctx: Context, device_id: str, raw: bytes, *, defer: bool = False) -> dict[str, Any]:
    """Verify, score and store a signed submission, exactly once per submission id.

    The id is the idempotency key (as in the IETF Idempotency-Key draft): a repeat with the same
    body gets the identical answer; the same id with another body is refused (422); a repeat
    while the first is still being processed gets 409 ``in_flight`` with Retry-After. Scoring
    and every row it writes are one transaction: a crash anywhere leaves nothing half-written.

    ``defer`` (the server is under load): verify the signature and the sitting, store the
    submission and a ``score`` job in one transaction, and answer at once with what the
    receipt needs and ``"result_pending": True``; the job does everything else moments later, and
    ``result_for`` answers with the result from then on.
    """
    document = verification.parse(raw, device_id)
    body = document["body"]
    submission_id = body["submission_id"]
    signed, stored = crypto.signed_document_bytes(document)
    digest = hashlib.sha256(stored).hexdigest()
    now = ctx.now_ms()
    with ctx.reader.connect() as connection:
        sitting = (
            connection.execute(
                _RECEIVING, {"id": body["sitting_id"], "device": device_id, "key": submission_id}
            )
            .mappings()
            .first()
        )
    if sitting is None:  # 404 before anything, never saying whose it is
        raise not_found("sitting")
    first = defer and sitting["examgate_claimed"] is None
    if first:  # the first upload of this id, under load: the checks before a receipt
        deadline_days = int(sitting["examgate_sync_deadline_days"])
        verification.admit(ctx, device_id, document, now, sitting, deadline_days, signed)
        return _accept(ctx, device_id, submission_id, stored.decode(), digest, sitting, now)
    done = _claim(ctx, submission_id, device_id, digest)
    if done is not None:
        return done
    try:
        answer = _process(ctx, device_id, document, stored.decode(), digest, sitting, signed)
        assert answer is not None  # answered: not received under load
        return answer
    except BaseException:
        _release(ctx, submission_id)
        raise


def hand_in(ctx: Context, raw: bytes) -> dict[str, Any]:
    """A submission handed in as a file (``examgate-client export-submission``): opened with the
    server's key, then verified and scored exactly as if its device had uploaded it."""
    envelope = canonical.loads(raw)
    if not isinstance(envelope, dict) or envelope.get("format") != HAND_IN_FORMAT:
        raise MalformedData("This is not an examgate hand-in file.")
    if envelope.get("server") != crypto.fingerprint(ctx.public_key):
        raise ApiError(
            409,
            "other_server",
            "This file was made for another examgate server: upload it to the server the "
            "candidate was invited by.",
        )
    document = canonical.loads(crypto.decrypt_sent(ctx.kex_key, envelope, HAND_IN_FORMAT))
    body = document.get("body") if isinstance(document, dict) else None
    device_id = body.get("device_id") if isinstance(body, dict) else None
    if not isinstance(device_id, str):
        raise MalformedData("The hand-in file holds no submission.")
    with ctx.reader.connect() as connection:
        known = connection.execute(
            select(db.devices.c.id).where(db.devices.c.id == device_id)
        ).first()
    if known is None:
        raise not_found("device")
    return submit(ctx, device_id, canonical.dumps(document))


def _claim(ctx: Context, key: str, device_id: str, digest: str) -> dict[str, Any] | None:
    """Claim ``key`` for this request; or return the answer already given for it; or refuse."""
    now = ctx.now_ms()
    with db.begin_light(ctx.engine) as connection:
        claimed = db.insert_if_absent(
            connection,
            "idempotency",
            {
                "key": key,
                "device_id": device_id,
                "body_sha256": digest,
                "state": "processing",
                "started_ms": now,
            },
            "key",
        )
        if claimed is not None:
            return None  # the first to ask: this request processes it
        claim = connection.execute(_CLAIM, {"key": key}).mappings().first()
        if claim is None:  # claimed and released meanwhile: let the repeat ask again
            raise _in_flight()
        if claim["device_id"] != device_id:
            raise not_found("submission")
        if claim["body_sha256"] != digest:
            raise ApiError(
                422,
                "key_reused",
                "A different submission with this id has already been received; an id is used "
                "for one submission only.",
            )
        if claim["state"] == "done":
            return _answer(ctx, connection, key)
        if now - claim["started_ms"] < CLAIM_STALE_MS:
            raise _in_flight()
        connection.execute(  # abandoned by a worker that died: this request takes it over
            db.idempotency.update().where(db.idempotency.c.key == key).values(started_ms=now)
        )
        return None


_CLAIM = select(db.idempotency).where(db.idempotency.c.key == bindparam("key"))

# The device's own sitting (``own_sitting``), its assessment's last day to hand in and whether
# the submission id was claimed: what an upload needs before anything, in one round trip.
_RECEIVING = (
    select(
        db.sittings,
        db.assessments.c.sync_deadline_days.label("examgate_sync_deadline_days"),
        select(db.idempotency.c.key)
        .where(db.idempotency.c.key == bindparam("key"))
        .scalar_subquery()
        .label("examgate_claimed"),
    )
    .join(db.assessments, db.assessments.c.id == db.sittings.c.assessment_id)
    .where(db.sittings.c.id == bindparam("id"), db.sittings.c.device_id == bindparam("device"))
)


def _in_flight() -> ApiError:
    return ApiError(
        409,
        "in_flight",
        "This submission is being received right now; it is safe to send it again in a moment.",
        {"Retry-After": "2"},
    )


def _release(ctx: Context, key: str) -> None:
    """Give up a claim that did not finish (refused or failed), so a repeat is processed anew."""
    with ctx.engine.begin() as connection:
        connection.execute(
            db.idempotency.delete().where(
                db.idempotency.c.key == key, db.idempotency.c.state == "processing"
            )
        )


def _accept(
    ctx: Context,
    device_id: str,
    submission_id: str,
    text: str,
    digest: str,
    sitting: RowMapping,
    now: int,
) -> dict[str, Any]:
    """Receive under load, once admitted: the id claimed as done, the submission and its
    ``score`` job, in one transaction (a crash leaves all or none)."""
    result_id = _new_result_id(ctx)
    with ctx.engine.begin() as connection:
        claimed = db.insert_if_absent(
            connection,
            "idempotency",
            {
                "key": submission_id,
                "device_id": device_id,
                "body_sha256": digest,
                "state": "done",
                "started_ms": now,
                "finished_ms": now,
            },
            "key",
        )
        if claimed is None:  # the same id arrived twice at once: the repeat asks again
            raise _in_flight()
        _store_submission(connection, submission_id, sitting, device_id, text, now, result_id)
        jobs.defer(connection, "score", submission_id, first=True)  # its submission is new
    metrics.SUBMISSIONS_DEFERRED.inc()
    return _receiving(submission_id, result_id, now, digest)


def _store_submission(
    connection: Connection,
    submission_id: str,
    sitting: RowMapping,
    device_id: str,
    text: str,
    received_ms: int,
    result_id: str,
) -> None:
    """Store the signed document once; 409 if this sitting's submission was stored meanwhile
    (its id and its sitting are each unique)."""
    inserted = db.insert_if_absent(
        connection,
        "submissions",
        {
            "id": submission_id,
            "sitting_id": sitting["id"],
            "device_id": device_id,
            "document": text,
            "received_ms": received_ms,
            "result_id": result_id,
        },
        "id",
    )
    if inserted is None:
        raise _already_submitted()


def _receiving(submission_id: str, result_id: str, received_ms: int, digest: str) -> dict[str, Any]:
    """The answer while a received submission waits for its ``score`` job."""
    return {
        "submission_id": submission_id,
        "result_id": result_id,
        "received_ms": received_ms,
        "submission_sha256": digest,
        "result_pending": True,
    }


# About how long the score job takes, per submission and process (bench.burst: 2,000 scored in
# about 18 s by one SQLite process after a burst).
SCORE_JOB_S = 0.01
RESULT_RETRY_MAX_S = 120


def result_retry_s(ctx: Context) -> int:
    """When a device should ask for a result still being scored: after the jobs ahead of it
    (2 s at least, 2 minutes at most), so a room's worth of devices asks about once each."""
    backlog = jobs.pending(ctx, "score")
    return min(RESULT_RETRY_MAX_S, 2 + math.ceil(backlog * SCORE_JOB_S))


def _new_result_id(ctx: Context) -> str:
    return f"{ctx.rng.getrandbits(64):016x}"


@jobs.task("score")
def score_received(ctx: Context, submission_id: str) -> None:
    """Score a submission received under load, once. What scoring refuses (a log that does
    not verify) is kept as the submission's refusal: its device is told when it asks."""
    try:
        with ctx.reader.connect() as connection:
            row = connection.execute(_RECEIVED, {"id": submission_id}).mappings().first()
            if row is None or row["scored"] or row["refusal"] is not None:
                return  # unknown (erased), or done already
            sitting = own_sitting(connection, row["device_id"], row["sitting_id"])
        document = canonical.loads(row["document"])
        signed, stored = crypto.signed_document_bytes(document)
        digest = hashlib.sha256(stored).hexdigest()
        _process(
            ctx,
            row["device_id"],
            document,
            row["document"],
            digest,
            sitting,
            signed,
            received=(row["received_ms"], row["result_id"]),
        )
    except (ApiError, ExamgateError) as error:
        refused = refusal(error)
        text = canonical.to_text(
            {"status": refused.status, "error": refused.code, "message": refused.message}
        )
        with ctx.engine.begin() as connection:
            connection.execute(  # not if a run of the same job scored it meanwhile
                db.submissions.update()
                .where(
                    db.submissions.c.id == submission_id,
                    db.submissions.c.refusal.is_(None),
                    ~select(db.results.c.id)
                    .where(db.results.c.submission_id == submission_id)
                    .exists(),
                )
                .values(refusal=text)
            )
        log.warning(
            "a submission received under load was refused when scored",
            extra={"submission": submission_id, "error": refused.code},
        )


_RECEIVED = (
    select(
        db.submissions,
        db.results.c.id.is_not(None).label("scored"),
    )
    .select_from(
        db.submissions.outerjoin(db.results, db.results.c.submission_id == db.submissions.c.id)
    )
    .where(db.submissions.c.id == bindparam("id"))
)


def _process(
    ctx: Context,
    device_id: str,
    document: dict[str, Any],
    text: str,
    digest: str,
    sitting: RowMapping,
    signed: bytes,
    received: tuple[int, str] | None = None,
) -> dict[str, Any] | None:
    """Verify and score with no lock held (scoring takes a while), then write every row in one
    short transaction that checks again that nothing came first; answer from what was written
    (a repeat reads the same back from the database).

    ``received``: the submission was stored under load at that time with that result id (the
    ``score`` job): it is judged as of when it was received, and nothing is answered."""
    submission_id = document["body"]["submission_id"]
    now = ctx.now_ms()
    received_ms = now if received is None else received[0]
    with ctx.reader.connect() as connection:
        checked = verification.verify(
            ctx, connection, device_id, document, received_ms, sitting, signed
        )
        assessment = checked.assessment
        blueprint = Blueprint.from_json(canonical.loads(assessment["blueprint"]))
        report = score(
            checked.form,
            cached_items(ctx, connection),
            checked.responses,
            item_feedback=blueprint.item_feedback,
        )
        organisation = (
            connection.execute(_ORGANISATION, {"id": assessment["employer_id"]}).scalar_one()
            if sitting["kind"] == "employer"
            else None
        )
    report["integrity"] = judge(checked.log, checked.facts)
    verification_code = crypto.new_unlock_code(ctx.rng.randrange)
    result_id = _new_result_id(ctx) if received is None else received[1]
    theta = report["overall_detail"]["theta"]
    share = sitting["kind"] == "employer" and employer_results.chosen_share(
        checked.log, assessment["employer_id"]
    )
    stored = {
        "id": result_id,
        "sitting_id": sitting["id"],
        "assessment_id": assessment["id"],
        "created_ms": now,
        "report": canonical.to_text(report),
        "integrity": report["integrity"]["outcome"],
    }
    with ctx.engine.begin() as connection:
        if received is None:
            _store_submission(connection, submission_id, sitting, device_id, text, now, result_id)
        scored = db.insert_if_absent(
            connection,
            "results",
            {
                **stored,
                "submission_id": submission_id,
                "overall": report["overall"],
                "overall_theta": theta,
                "verification_code": verification_code,
                "certificate": None,
            },
            "id",
        )
        if scored is None:  # scored meanwhile (a job run twice): nothing more to write
            return None
        _count_in_distribution(connection, assessment["id"], theta)
        employer_results.on_scored(
            ctx, connection, stored, sitting, assessment["employer_id"], share
        )
        jobs.defer(connection, "certify", result_id)
        connection.execute(_SCORED, {"sitting": sitting["id"]})
        if received is None:
            connection.execute(_DONE, {"claimed": submission_id, "digest": digest, "now": now})
    metrics.SUBMISSIONS_SCORED.inc()
    if received is not None:
        return None
    with ctx.reader.connect() as connection:  # after the commit: the result counts in it
        percentile, cohort = _percentile(
            connection, assessment["id"], theta, ctx.settings.min_cohort
        )
    return _compose(
        ctx,
        {
            "submission_id": submission_id,
            "result_id": result_id,
            "verification_code": verification_code,
            "received_ms": now,
            "created_ms": now,
            "submission_sha256": digest,
            "title": assessment["title"],
            "kind": sitting["kind"],
            "organisation": organisation,
        },
        orjson.loads(stored["report"]),  # as a repeat reads it back
        percentile,
        cohort,
    )


_ORGANISATION = select(db.employers.c.name).where(db.employers.c.id == bindparam("id"))
_SCORED = (
    db.sittings.update().where(db.sittings.c.id == bindparam("sitting")).values(state="scored")
)
_DONE = (
    db.idempotency.update()
    .where(
        db.idempotency.c.key == bindparam("claimed"),
        db.idempotency.c.body_sha256 == bindparam("digest"),
    )
    .values(state="done", finished_ms=bindparam("now"))
)


def _already_submitted() -> ApiError:
    return ApiError(409, "already_submitted", "This sitting has already been submitted.")


def _stored(connection: Connection, submission_id: str) -> dict[str, Any] | None:
    row = (
        connection.execute(select(db.submissions).where(db.submissions.c.id == submission_id))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def _answer(ctx: Context, connection: Connection, submission_id: str) -> dict[str, Any]:
    """The answer for a stored submission: its result; while its ``score`` job has not run,
    what the receipt needs and ``"result_pending": True``; if scoring refused it, the refusal."""
    row = connection.execute(_ANSWER, {"submission_id": submission_id}).mappings().first()
    if row is None:
        received = _stored(connection, submission_id)
        if received is None:
            raise not_found("result")
        _raise_refusal(received)
        digest = hashlib.sha256(received["document"].encode()).hexdigest()
        return _receiving(submission_id, received["result_id"], received["received_ms"], digest)
    percentile, cohort = _percentile(
        connection, row["assessment_id"], row["overall_theta"], ctx.settings.min_cohort
    )
    facts = dict(row)
    facts["submission_sha256"] = hashlib.sha256(row["document"].encode()).hexdigest()
    return _compose(ctx, facts, canonical.loads(row["report"]), percentile, cohort)


def _raise_refusal(submission: dict[str, Any]) -> None:
    """Scoring refused this submission after it was received: say so, as scoring said it."""
    if submission["refusal"] is not None:
        refused = canonical.loads(submission["refusal"])
        raise ApiError(refused["status"], refused["error"], refused["message"])


_ANSWER = (
    select(
        db.results.c.id.label("result_id"),
        db.results.c.assessment_id,
        db.results.c.overall_theta,
        db.results.c.report,
        db.results.c.verification_code,
        db.results.c.created_ms,
        db.results.c.submission_id,
        db.submissions.c.document,
        db.submissions.c.received_ms,
        db.sittings.c.kind,
        db.assessments.c.title,
        db.employers.c.name.label("organisation"),
    )
    .select_from(
        db.result_context().join(db.submissions, db.submissions.c.id == db.results.c.submission_id)
    )
    .where(db.results.c.submission_id == bindparam("submission_id"))
)


def _compose(
    ctx: Context,
    facts: dict[str, Any],
    report: dict[str, Any],
    percentile: int | None,
    cohort: int,
) -> dict[str, Any]:
    """The answer to an upload (and to every repeat of it): the report, where it stands, and
    how to check and share it."""
    code = facts["verification_code"]
    url = f"{ctx.settings.public_url}/verify/{code}"
    return {
        "percentile": percentile,
        "cohort": cohort,
        "submission_id": facts["submission_id"],
        "result_id": facts["result_id"],
        "verification_code": code,
        "received_ms": facts["received_ms"],
        "submission_sha256": facts["submission_sha256"],
        **report,
        "verification_url": url,
        "linkedin_url": credentials.linkedin_url(
            facts["title"], credentials.issuer_name(ctx, facts), facts["created_ms"], code, url
        ),
    }


# Scores are counted in buckets of 1/BUCKETS_PER_THETA of a logit, within +-MAX_BUCKET: two
# abilities within 0.01 of each other count as tied, far finer than any ability's standard
# error (about 0.3 on this test). Kept in step with migration 0006.
BUCKETS_PER_THETA = 100
MAX_BUCKET = 600


def distribution_bucket(theta: float) -> int:
    """theta times 100, rounded half away from zero (as SQL's ROUND), within +-600."""
    scaled = max(-MAX_BUCKET, min(MAX_BUCKET, theta * BUCKETS_PER_THETA))
    return int(math.copysign(math.floor(abs(scaled) + 0.5), scaled))


def _count_in_distribution(connection: Connection, assessment_id: str, theta: float | None) -> None:
    if theta is None:
        return
    connection.execute(
        _count_statement(connection.dialect.name),
        {"assessment_id": assessment_id, "bucket": distribution_bucket(theta)},
    )


@functools.cache
def _count_statement(dialect_name: str) -> Any:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(db.result_distribution).values(count=1)
    return statement.on_conflict_do_update(
        index_elements=["assessment_id", "bucket"],
        set_={"count": db.result_distribution.c.count + 1},
    )


def _percentile(
    connection: Connection, assessment_id: str, theta: float | None, min_cohort: int = MIN_COHORT
) -> tuple[int | None, int]:
    """Where this result stands among all scored results of the same assessment (0-100):
    the share scoring below it, ties counted half; and how many results that is. Read when
    asked, so it follows the cohort; None until the cohort has ``min_cohort`` results (a
    percentile of a handful of people says nothing). One aggregate over at most 1,201
    distribution rows, however many results there are."""
    if theta is None:
        return None, 0
    below, same, total = connection.execute(
        _STANDING, {"bucket": distribution_bucket(theta), "assessment_id": assessment_id}
    ).one()
    total = int(total)
    if total < min_cohort:
        return None, total
    return round(100 * (int(below) + 0.5 * int(same)) / total), total


_COUNTS = db.result_distribution.c.count
_BUCKET = db.result_distribution.c.bucket
_STANDING = select(
    func.coalesce(func.sum(_COUNTS).filter(bindparam("bucket") > _BUCKET), 0),
    func.coalesce(func.sum(_COUNTS).filter(bindparam("bucket") == _BUCKET), 0),
    func.coalesce(func.sum(_COUNTS), 0),
).where(db.result_distribution.c.assessment_id == bindparam("assessment_id"))


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
    with ctx.reader.connect() as connection:
        existing = _stored(connection, submission_id)
        if existing is None or existing["device_id"] != device_id:
            raise not_found("result")
        return _answer(ctx, connection, submission_id)


def certificate_for(ctx: Context, device_id: str, submission_id: str) -> bytes | None:
    """The PDF of this device's result, or None while the ``certify`` job has not run yet."""
    with ctx.reader.connect() as connection:
        existing = _stored(connection, submission_id)
        if existing is None or existing["device_id"] != device_id:
            raise not_found("certificate")
        row = connection.execute(
            select(db.results.c.certificate, db.results.c.review, db.results.c.integrity).where(
                db.results.c.submission_id == submission_id
            )
        ).first()
    if row is None:  # received under load, not scored yet (or refused when scored)
        _raise_refusal(existing)
        return None
    if row.integrity == "voided":
        raise ApiError(
            410,
            "voided",
            "The sitting was voided by the assessment's integrity rules, so it has no "
            "certificate. Ask the organisation that gave the exam what happens next.",
        )
    if row.review == "voided":
        raise ApiError(
            410,
            "voided",
            "The organisation that gave this exam voided the result after reviewing the "
            "sitting, so its certificate is revoked. Ask that organisation why.",
        )
    return None if row.certificate is None else bytes(row.certificate)


def credential_for(ctx: Context, device_id: str, submission_id: str) -> dict[str, Any] | None:
    """The Open Badges credential of this device's result, or None while not issued yet."""
    with ctx.reader.connect() as connection:
        existing = _stored(connection, submission_id)
        if existing is None or existing["device_id"] != device_id:
            raise not_found("credential")
    _raise_refusal(existing)
    return credentials.stored_credential(ctx, db.results.c.submission_id == submission_id)


def _certified(ctx: Context, where: Any) -> RowMapping | None:
    """What a certificate states about one result (who, what, when, levels, its code)."""
    with ctx.reader.connect() as connection:
        return (
            connection.execute(
                select(
                    db.results.c.overall,
                    db.results.c.report,
                    db.results.c.verification_code,
                    db.results.c.created_ms,
                    db.results.c.certificate.is_not(None).label("done"),
                    db.results.c.review,
                    db.results.c.reviewed_ms,
                    db.results.c.integrity,
                    db.results.c.certificate_sha256,
                    db.results.c.status_list,
                    db.results.c.status_index,
                    db.sittings.c.erased_ms,
                    db.sittings.c.candidate_name,
                    db.sittings.c.kind,
                    db.assessments.c.title,
                    db.employers.c.name.label("organisation"),
                )
                .select_from(db.result_context())
                .where(where)
            )
            .mappings()
            .first()
        )


@jobs.task("certify")
def certify(ctx: Context, result_id: str) -> None:
    """Render, sign and issue a stored result's certificate and credential, once."""
    credentials.certify(ctx, result_id)


def verify_code(ctx: Context, code: str) -> dict[str, Any]:
    """Public: whether ``code`` belongs to a genuine certificate, and what it certifies."""
    normalised = crypto.normalise_unlock_code(code)[:64]
    pretty = "-".join(normalised[i : i + 4] for i in range(0, len(normalised), 4))
    row = _certified(ctx, db.results.c.verification_code == pretty)
    if row is None:
        return {"genuine": False, "verification_code": pretty}
    if row["erased_ms"] is not None:
        return {
            "genuine": True,
            "revoked": True,
            "revoked_reason": "The holder's personal data was erased at their request or at "
            "the end of its retention period, so this certificate no longer stands.",
            "revoked_ms": row["erased_ms"],
            "verification_code": pretty,
        }
    report = canonical.loads(row["report"])
    by_policy = row["integrity"] == "voided"
    revoked = row["review"] == "voided" or by_policy
    public = ctx.settings.public_url
    issuer = credentials.issuer_name(ctx, row)
    found: dict[str, Any] = {
        "genuine": True,
        "revoked": revoked,
        "revoked_reason": (
            "The sitting was voided by the assessment's integrity rules."
            if by_policy
            else "The organisation that gave the exam voided this result after reviewing the "
            "sitting's integrity record."
            if revoked
            else None
        ),
        "revoked_ms": (row["created_ms"] if by_policy else row["reviewed_ms"]) if revoked else None,
        "verification_code": pretty,
        "candidate": row["candidate_name"],
        "assessment": row["title"],
        "issuer": issuer,
        "date": datetime.fromtimestamp(row["created_ms"] / 1000, tz=UTC).date().isoformat(),
        "overall": row["overall"],
        "categories": report["categories"],
        # Ready once the certify job has run: the signed PDF's hash (compare the file you were
        # given), the credential, and where its revocation status is published.
        "ready": bool(row["done"]),
        "certificate_sha256": row["certificate_sha256"],
        "credential_url": f"{public}/verify/{pretty}/credential" if row["done"] else None,
        "status_list": (
            f"{public}/credentials/status/{row['status_list']}" if row["done"] else None
        ),
        "status_index": row["status_index"],
        "authority_url": f"{public}/trust/authority.pem",
    }
    if not revoked:
        found["linkedin_url"] = credentials.linkedin_url(
            row["title"], issuer, row["created_ms"], pretty, f"{public}/verify/{pretty}"
        )
    return found
