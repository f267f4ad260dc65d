"""Verifying a signed submission before anything is scored: its shape, the device's signature,
the sitting and package it names, every event against its schema, the hash chain, and the
responses against the answers in the log. Any failure is a 4xx that changes nothing.

What can only be judged, not refused (the MAC chain, the policy, the clocks), is left to
``server.integrity``, with the facts gathered here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping

from server import delivery
from server.auth import device_key
from server.context import Context
from server.errors import ApiError, not_found
from server.integrity import Facts
from server.invitations import DAY_MS, assessment_of, sitting_ms, utc, window
from shared import canonical, crypto, events
from shared.errors import MalformedData
from shared.events import Event
from shared.models import END_REASONS
from shared.policy import Policy
from shared.protocol import SUBMISSION_FORMAT

BODY_FIELDS = frozenset(
    {
        "format",
        "submission_id",
        "sitting_id",
        "package_id",
        "device_id",
        "chain_public",
        "responses",
        "events",
        "timing",
        "end_reason",
    }
)


def parse(raw: bytes, device_id: str) -> dict[str, Any]:
    """The signed document, if its body has the submission's shape; else ``MalformedData``."""
    document = canonical.loads(raw)
    if not isinstance(document, dict) or not isinstance(document.get("body"), dict):
        raise MalformedData("The submission is not a signed document.")
    body = document["body"]
    if set(body) != BODY_FIELDS:
        raise MalformedData(
            f"The submission must have exactly the fields {', '.join(sorted(BODY_FIELDS))}."
        )
    if body["format"] != SUBMISSION_FORMAT:
        raise MalformedData("The submission's format is not supported.")
    for name in ("submission_id", "sitting_id", "package_id", "device_id"):
        value = body[name]
        if not isinstance(value, str) or not 1 <= len(value) <= 64:
            raise MalformedData(f"The submission has no valid {name}.")
    if body["device_id"] != device_id:
        raise ApiError(403, "wrong_device", "This submission belongs to another device.")
    if body["end_reason"] not in END_REASONS:
        raise MalformedData("The submission's end reason is not known.")
    if not isinstance(body["responses"], list) or not isinstance(body["events"], list):
        raise MalformedData("The submission has no responses or events.")
    if body["chain_public"] is not None and not isinstance(body["chain_public"], str):
        raise MalformedData("The submission's event chain key is not text.")
    timing = body["timing"]
    if not isinstance(timing, dict) or not all(
        value is None or (type(value) is int and 0 <= value <= events.TIME_MAX_MS)
        for value in timing.values()
    ):
        raise MalformedData("The submission's timing must hold whole, non-negative numbers.")
    return document


def _responses(body: dict[str, Any], form: list[dict[str, Any]]) -> dict[str, list[str]]:
    allowed = {entry["id"]: {shown for shown, _ in entry["options"]} for entry in form}
    responses: dict[str, list[str]] = {}
    for response in body["responses"]:
        if not isinstance(response, dict) or set(response) != {"item", "options"}:
            raise MalformedData("A response is not an object with an item and its options.")
        item, options = response["item"], response["options"]
        if not isinstance(item, str) or item not in allowed or item in responses:
            raise MalformedData("A response names an item that is not in this sitting.")
        if not isinstance(options, list) or not all(
            isinstance(option, str) and option in allowed[item] for option in options
        ):
            raise MalformedData("A response names an option that is not in its item.")
        responses[item] = list(options)
    return responses


def _journalled_answers(log: list[Event]) -> dict[str, list[str]]:
    """Each item's last answer in the event log (an emptied answer counts as none)."""
    answers: dict[str, list[str]] = {}
    for event in log:
        if event.type == "answer":
            answers[event.data["item"]] = list(event.data["options"])
    return {item: options for item, options in answers.items() if options}


@dataclass(frozen=True)
class Verified:
    """A submission that passed every check that can refuse it, with what scoring needs."""

    submission_id: str
    body: dict[str, Any]
    log: list[Event]
    responses: dict[str, list[str]]
    sitting: RowMapping
    assessment: RowMapping
    form: list[dict[str, Any]]
    facts: Facts


def _first_key(ctx: Context, sitting_id: str, chain_public: object) -> bytes | None:
    if not isinstance(chain_public, str):
        return None
    try:
        raw = crypto.b64decode(chain_public, "event chain key")
        return crypto.shared_key(ctx.kex_key, raw, events.CHAIN_INFO + sitting_id.encode())
    except (MalformedData, ValueError):
        return None


def admit(
    ctx: Context,
    device_id: str,
    document: dict[str, Any],
    now: int,
    sitting: RowMapping,
    sync_deadline_days: int,
    signed: bytes | None = None,
) -> dict[str, Any]:
    """The checks that take no reading of the log: the device's signature, the package, the
    sitting's state and the last day to hand in (``sync_deadline_days``, the assessment's,
    after the window). An upload received under load passes these before its receipt;
    ``verify`` makes them all again when it is scored. Returns the signed body."""
    key = device_key(ctx, device_id)
    if key is None:
        raise not_found("device")
    body = crypto.verify_document(document, key, "submission", signed)
    if body["package_id"] != sitting["package_id"]:
        raise ApiError(409, "wrong_package", "This submission is for another exam package.")
    if sitting["state"] == "scored":
        raise ApiError(409, "already_submitted", "This sitting has already been submitted.")
    if not sitting["offline"] and sitting["started_ms"] is None:
        raise ApiError(
            409,
            "not_started",
            "This online sitting was never started on the server, so there is nothing to submit.",
        )
    handed_in_by = window(sitting)[1] + sync_deadline_days * DAY_MS
    if now > handed_in_by:
        raise ApiError(
            409,
            "sync_deadline_passed",
            f"This exam reached the server after the last day to hand it in "
            f"({utc(handed_in_by)}), so it cannot be scored. Contact the organisation that "
            "invited you; your answers stay on this computer.",
        )
    return body


def verify(
    ctx: Context,
    connection: Connection,
    device_id: str,
    document: dict[str, Any],
    now: int,
    sitting: RowMapping,
    signed: bytes | None = None,
) -> Verified:
    """Check ``document`` for ``device_id`` against the database; raise on anything refusable.
    ``sitting`` is the device's own sitting the document names (``own_sitting``); ``signed``
    the body's canonical bytes, when the caller has them."""
    assessment = assessment_of(connection, sitting)
    deadline_days = int(assessment["sync_deadline_days"])
    body = admit(ctx, device_id, document, now, sitting, deadline_days, signed)
    log = events.parse(body["events"])
    events.verify_chain(body["events"], body["sitting_id"])
    form = canonical.loads(sitting["form"])
    scored = form
    mismatched: list[str] = []
    unlogged = offline = 0
    adaptive = delivery.adaptive(sitting)
    if adaptive:  # the items as the server gave them and the log met them
        ends = int(sitting["started_ms"]) + sitting_ms(assessment, sitting)
        delivered = delivery.sitting_form(connection, sitting, log, ends)
        form, scored, unlogged = delivered.form, delivered.scored, delivered.unlogged
        offline = delivered.offline
    responses = _responses(body, form)
    if {k: v for k, v in responses.items() if v} != _journalled_answers(log):
        raise MalformedData("The responses do not match the sitting's event log.")
    if adaptive:  # a served item's answer is the one the server received in time
        shown = {entry["id"] for entry in form}
        for item, options in delivered.received.items():
            if item in shown and sorted(responses.get(item, [])) != sorted(options):
                mismatched.append(item)
            responses[item] = list(options)
        for item in delivered.late:  # an answer the server never received in time
            responses[item] = []
    opens, closes = window(sitting)
    committed = sitting["chain_public"] == body["chain_public"]
    facts = Facts(
        sitting_id=sitting["id"],
        offline=bool(sitting["offline"]),
        policy=Policy.from_json(canonical.loads(assessment["policy"])),
        form_ids=[entry["id"] for entry in form],
        sitting_ms=sitting_ms(assessment, sitting),
        proctor_secret=crypto.b64decode(sitting["proctor_secret"]),
        opens_ms=opens,
        closes_ms=closes,
        received_ms=now,
        end_reason=body["end_reason"],
        prepared_ms=sitting["prepared_ms"],
        started_ms=sitting["started_ms"],
        chain_first_key=_first_key(ctx, sitting["id"], body["chain_public"]),
        chain_committed=committed,
        checkpoint=(
            (int(sitting["checkpoint_seq"]), str(sitting["checkpoint_hash"]))
            if sitting["checkpoint_seq"] is not None
            else None
        ),
        rolled_back=bool(sitting["rolled_back"]),
        sealed_seen_ms=sitting["sealed_seen_ms"],
        answers_differ=len(mismatched),
        unlogged=unlogged,
        offline_answers=offline,
    )
    return Verified(
        submission_id=body["submission_id"],
        body=body,
        log=log,
        responses=responses,
        sitting=sitting,
        assessment=assessment,
        form=scored,
        facts=facts,
    )
